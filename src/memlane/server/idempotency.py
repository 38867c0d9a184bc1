"""The ``Idempotency-Key`` header of the add routes (mem0's ``POST /memories``, the platform's
``POST /v3/memories/add/`` and ``POST /memlane/v1/add``): ``Memory.add(idempotency_key=...)``.

A client that resends an add with the same key (its connection dropped after the server wrote
it) gets the first answer, and nothing is written twice; the same key with another body is a
409 (``ConflictError``), as is a repeat while the first is still running past
``idempotency.wait``. Keys are kept ``idempotency.ttl`` (24 h by default), per tenant.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header

from memlane.server.errors import ApiError

__all__ = ["HEADER", "IdempotencyKey", "with_key"]

HEADER = "Idempotency-Key"

_DESCRIBE = (
    "memlane: a key of your choosing (at most 256 characters, no spaces), the same on every retry "
    "of one add: a retry answers the first add's result and writes nothing; the same key with "
    "another body is a 409. Kept 24 h (idempotency.ttl)."
)


def _key(key: Annotated[str | None, Header(alias=HEADER, description=_DESCRIBE)] = None) -> str | None:
    return key


IdempotencyKey = Annotated[str | None, Depends(_key)]
"""The request's ``Idempotency-Key`` header, if any."""


def with_key(options: dict[str, Any], header: str | None) -> dict[str, Any]:
    """``options`` for ``Memory.add`` with the header's key (one in the body too must agree)."""
    if header is None:
        return options
    body = options.get("idempotency_key")
    if body is not None and body != header:
        raise ApiError(
            400, "invalid_input", f"the {HEADER} header and the body's idempotency_key differ: send one"
        )
    return {**options, "idempotency_key": header}
