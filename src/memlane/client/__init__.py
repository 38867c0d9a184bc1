"""``memlane.Client`` and ``memlane.AsyncClient``: ``Memory``'s API against ``memlane serve``.

Switching an app between in-process and remote memory is one line::

    memory = Memory()                                          # in-process
    memory = Client("http://127.0.0.1:8000", api_key=KEY)      # remote, the same calls

The clients call memlane's own routes (``/memlane/v1/<method>``), which take every argument
``Memory`` takes and answer exactly what it returns; mem0's routes, which the same server also
serves, are for mem0's clients.
"""

from __future__ import annotations

from memlane.client._client import API_KEY_ENV, AsyncClient, Client

__all__ = ["API_KEY_ENV", "AsyncClient", "Client"]
