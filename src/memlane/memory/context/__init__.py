"""Context packing with citations (``get_context``) and answering from it (``chat``)."""
