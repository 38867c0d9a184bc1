"""What the SDK-backed providers (anthropic, litellm) share: lazy import and error translation."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from memlane.errors import LLMError, MissingDependencyError
from memlane.llm.structured import TransientLLMError

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


def translate_error(exc: BaseException, label: str) -> LLMError:
    """An SDK exception as ``TransientLLMError`` (worth a retry) or ``LLMError``.

    Judged by the HTTP status the SDKs attach (``status_code``) and by class name, so no SDK
    type is needed at import time.
    """
    status = getattr(exc, "status_code", None)
    names = [cls.__name__ for cls in type(exc).__mro__]
    transient = (isinstance(status, int) and (status in (408, 409, 425, 429) or status >= 500)) or any(
        marker in name for name in names for marker in _TRANSIENT_NAMES
    )
    message = f"{label}: {type(exc).__name__}: {exc}"
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
