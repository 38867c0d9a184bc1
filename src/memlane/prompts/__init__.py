"""One module per LLM task: its input model, message builder and response model.

Internal: the prompts may change in any release; nothing here is public API.
"""

__all__: list[str] = []
