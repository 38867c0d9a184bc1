"""What the SDK-backed providers (anthropic, litellm) share: lazy import and error translation."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from memlane.errors import LLMError, MissingDependencyError
from memlane.llm.retry import retryable_status
from memlane.llm.structured import TransientLLMError
from memlane.redact import redact_secrets

__all__ = ["import_sdk", "translate_error"]

_TRANSIENT_NAMES = (
    "Timeout",
    "Connection",
    "RateLimit",
    "Overloaded",
    "ServiceUnavailable",
    "InternalServer",
)


def import_sdk(module: str, package: str, extra: str) -> ModuleType:
    """Import an optional SDK, or raise ``MissingDependencyError`` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, extra) from exc


def translate_error(exc: BaseException, label: str, secrets: Sequence[str] = ()) -> LLMError:
    """An SDK exception as ``TransientLLMError`` (worth a retry) or ``LLMError``, secrets masked.

    Judged by the HTTP status the SDKs attach (``status_code``) with the rule every provider
    shares (``retryable_status``), and by class name when there is no status (timeouts,
    dropped connections), so no SDK type is needed at import time.
    """
    message = redact_secrets(f"{label}: {type(exc).__name__}: {exc}", secrets)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        transient = retryable_status(status, str(exc))
    else:
        names = [cls.__name__ for cls in type(exc).__mro__]
        transient = any(marker in name for name in names for marker in _TRANSIENT_NAMES)
    if transient:
        return TransientLLMError(message, retry_after=_retry_after(exc))
    return LLMError(message)


def _retry_after(exc: BaseException) -> float | None:
    response: Any = getattr(exc, "response", None)
    headers: Any = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        return float(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None
