"""Stores: one contract per record kind, implemented by each back end (``store.sqlite``, and the
FalkorDB graph in ``store.falkordb``).

Extension points: ``MemoryStore`` and ``StoreTransaction`` (the contract a new store implements;
``tests/store/test_contract*.py`` is the suite it must pass) and ``PendingAdd`` (a record of it).
"""

from memlane.store.base import MemoryStore, PendingAdd, StoreTransaction

__all__ = ["MemoryStore", "PendingAdd", "StoreTransaction"]
