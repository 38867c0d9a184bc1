"""The graph on a FalkorDB server (the ``falkordb`` extra): ``FalkorDBGraphStore``, and
``LocalFalkorDB`` to run a private server. Importing this package imports no SDK."""

from memlane.store.falkordb.graph import FalkorDBGraphStore
from memlane.store.falkordb.server import LocalFalkorDB

__all__ = ["FalkorDBGraphStore", "LocalFalkorDB"]
