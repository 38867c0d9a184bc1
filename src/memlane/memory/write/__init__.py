"""The write pipelines: add's inputs normalised (``messages``), the LLM's part (``infer``), its
answer made a safe plan (``plan``), the plan written (``apply``), adds kept until their LLM call
succeeds (``pending``), ``add`` and ``update`` themselves.

Internal: ``Memory.add``, ``Memory.update`` and ``Memory.reprocess`` are the public entry points.
"""

__all__: list[str] = []
