"""The threads that run a search leg beside its caller (``PostgresStore.hybrid_search``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import TypeVar

__all__ = ["Workers"]

T = TypeVar("T")


class Workers:
    """A pool of at most ``size`` threads named ``name``-N, made on first use, ended by ``close``."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._lock = threading.Lock()
        self._executor: futures.ThreadPoolExecutor | None = None

    @property
    def started(self) -> bool:
        """Whether a thread pool was ever made (and not closed since)."""
        return self._executor is not None

    def submit(self, fn: Callable[..., T], *args: object) -> futures.Future[T]:
        with self._lock:
            if self._executor is None:
                self._executor = futures.ThreadPoolExecutor(
                    max_workers=self._size, thread_name_prefix=self._name
                )
            return self._executor.submit(fn, *args)

    def close(self) -> None:
        """Wait for the running legs, then end the threads."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
