"""Every error memlane raises.

One root, so ``except MemlaneError`` catches anything the library raises on purpose::

    MemlaneError
    ├── ConfigError                      bad or missing configuration
    │   ├── UnknownProviderError         a provider name nobody registered
    │   └── MissingDependencyError       an optional extra is not installed (also ImportError)
    ├── InvalidInputError                bad arguments to a public call (also ValueError)
    │   ├── InvalidFilterError           a filter mem0's language does not allow
    │   └── ConflictError                an idempotency key reused with other arguments, or in flight
    ├── NotFoundError                    an id that does not exist (also ValueError, as mem0 raises)
    ├── AuthenticationError              a memlane server refused the API key (HTTP 401 / 403)
    └── ProviderError                    a back end failed
        ├── LLMError                     the model failed or its output could not be used
        │   └── EmptyOutputError         the answer was empty where content is required (also ValueError)
        ├── EmbedderError
        ├── RerankError                  the reranker failed or its scores could not be used
        ├── RemoteError                  a memlane server could not be reached or failed (Client)
        └── StoreError
            └── DimensionMismatchError   the store holds vectors of another size
                └── EmbedderMismatchError  ... or of another embedder (same size, other model)

Input errors (and ``EmptyOutputError``) subclass ``ValueError`` so that code written for mem0
(``except ValueError``) keeps working. Every error leaves the store as it was.
"""

from __future__ import annotations

from memlane.models import Usage

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DimensionMismatchError",
    "EmbedderError",
    "EmbedderMismatchError",
    "EmptyOutputError",
    "InvalidFilterError",
    "InvalidInputError",
    "LLMError",
    "MemlaneError",
    "MissingDependencyError",
    "NotFoundError",
    "ProviderError",
    "RemoteError",
    "RerankError",
    "StoreError",
    "UnknownProviderError",
]


class MemlaneError(Exception):
    """The root of every error memlane raises on purpose."""


class ConfigError(MemlaneError, ValueError):
    """The configuration is invalid or incomplete."""


class UnknownProviderError(ConfigError):
    """A provider name that is not registered for its kind."""

    def __init__(self, kind: str, name: str, known: list[str], hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        self.hint = hint
        message = f"unknown {kind} provider {name!r}; known {kind} providers: {', '.join(known) or '(none)'}"
        if hint:
            message = (
                f"{kind} provider {name!r} is not built into memlane: {hint}. "
                f"Known {kind} providers: {', '.join(known)}"
            )
        super().__init__(message)


class MissingDependencyError(ConfigError, ImportError):
    """A provider needs an optional package that is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"the package {package!r} is not installed; install it with: pip install 'memlane[{extra}]'"
        )


class InvalidInputError(MemlaneError, ValueError):
    """A public call got an argument it cannot use; nothing was written."""


class InvalidFilterError(InvalidInputError):
    """A filter that mem0's filter language does not allow."""


class ConflictError(InvalidInputError):
    """``add(idempotency_key=...)``: the key was used by a call with other arguments, or the
    call holding it is still running (retry later); nothing was written. HTTP 409."""


class NotFoundError(MemlaneError, ValueError):
    """No memory has the given id."""

    def __init__(self, memory_id: str) -> None:
        self.memory_id = memory_id
        super().__init__(f"memory {memory_id!r} not found")


class AuthenticationError(MemlaneError):
    """A memlane server refused the request's API key: none, unknown or revoked (HTTP 401), or
    the key may not do this (HTTP 403, e.g. an admin route). ``status`` is the HTTP status."""

    status: int | None = None


class ProviderError(MemlaneError):
    """A back end (LLM, embedder, store) failed."""


class LLMError(ProviderError):
    """The LLM failed, or its output could not be parsed into the expected shape."""

    pending: int | None = None
    """Set by ``add(infer=True)``: how many messages of the scope wait for ``Memory.reprocess``
    (the conversation is kept when the call fails)."""

    usage: Usage | None = None
    """What the failed call still cost (its attempts' calls and tokens), when known."""


class EmptyOutputError(LLMError, ValueError):
    """The model answered, but with nothing where content is required (an empty procedural
    summary); a ``ValueError`` too, as mem0 raises."""


class EmbedderError(ProviderError):
    """The embedder failed or returned vectors of the wrong shape."""


class RerankError(ProviderError):
    """The reranker failed (its model could not load or run) or its scores could not be used."""


class RemoteError(ProviderError):
    """``memlane.Client``: the memlane server could not be reached (connection refused, timeout)
    or answered with a failure that names no memlane error. ``status`` is the HTTP status (None
    when there was no answer)."""

    status: int | None = None


class StoreError(ProviderError):
    """The store failed."""


class DimensionMismatchError(StoreError):
    """The store was created with vectors of another dimension than the embedder gives."""

    def __init__(self, stored: int, embedder: int, message: str | None = None) -> None:
        self.stored = stored
        self.embedder = embedder
        super().__init__(
            message
            or f"the store holds {stored}-dimensional vectors but the embedder gives {embedder}; "
            "use the embedder the store was created with, a new database path, or move the "
            "store to this embedder with memlane reindex (Memory.reindex)"
        )


class EmbedderMismatchError(DimensionMismatchError):
    """The store was written by another embedder: its vectors and the embedder's do not compare
    even though their sizes agree. ``stored_embedder`` and ``embedder_identity`` name the two;
    ``stored`` and ``embedder`` are the (equal) dimension, 0 when not known yet."""

    def __init__(self, stored: str, embedder: str, dimension: int = 0, message: str | None = None) -> None:
        self.stored_embedder = stored
        self.embedder_identity = embedder
        super().__init__(
            dimension,
            dimension,
            message
            or f"the store was written with the embedder {stored!r} but is opened with {embedder!r}; "
            "their vectors do not compare. Open it with the embedder it was written with, use a "
            "new database path, or move the store to the new embedder with a re-index "
            "(memlane reindex, Memory.reindex)",
        )
