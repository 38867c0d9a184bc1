"""Stores: one contract per record kind, implemented by each back end."""

from memlane.store.base import MemoryStore, StoreTransaction

__all__ = ["MemoryStore", "StoreTransaction"]
