"""One module per LLM task: its input model, message builder and response model."""
