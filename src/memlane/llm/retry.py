"""What every provider shares about failed requests: which are worth a retry, how long to wait,
when to give up, and keeping secrets out of the error that is finally raised.

A retry helps only when the same request can succeed later: a dropped connection, a timeout,
a rate limit (408, 409, 425, 429), a gateway or overload answer (502, 503, 504, 529), or a
plain 500. A 500 whose body says the request itself is invalid (a ``response_format`` the
server refuses, a validation error) fails the same way every time, so it is not retried, and
neither is any other 4xx or 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

__all__ = [
    "RetryPolicy",
    "RetrySettings",
    "refuses_request",
    "retryable_status",
]

_RETRY_ALWAYS = frozenset({408, 409, 425, 429, 502, 503, 504, 529})
_INVALID_REQUEST_WORDS = (
    "response_format",
    "json_schema",
    "json_object",
    "schema",
    "grammar",
    "literal_error",
    "validation",
    "invalid",
    "unsupported",
    "not supported",
)
"""An ``Authorization: Bearer <token>`` value, whatever the token."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for transient failures: ``backoff * 2**attempt`` seconds, capped.

    ``deadline`` bounds one ``complete()`` call, every attempt, wait and repair request
    included (None: no bound beyond ``max_retries`` times the request timeout).
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    deadline: float | None = None

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (a server's Retry-After wins, capped)."""
        wait = min(self.max_backoff, self.backoff * 2.0**attempt)
        if retry_after is not None:
            wait = max(wait, min(retry_after, 4 * self.max_backoff))
        return wait


class RetrySettings(BaseModel):
    """The timeout and retry fields every LLM provider's config shares."""

    timeout: float = Field(default=60.0, gt=0, description="seconds one request may take")
    max_retries: int = Field(default=3, ge=0, le=10, description="retries of what may succeed when resent")
    backoff: float = Field(default=0.5, ge=0, description="first retry delay in seconds; doubles each time")
    deadline: float | None = Field(
        default=180.0,
        gt=0,
        description="seconds one LLM call may take, every retry and the repair request included "
        "(None: no limit)",
    )

    def retry_policy(self) -> RetryPolicy:
        """The retry and deadline settings of this config."""
        return RetryPolicy(max_retries=self.max_retries, backoff=self.backoff, deadline=self.deadline)


def refuses_request(text: str) -> bool:
    """Whether an error body says the request itself is invalid (so sending it again cannot help)."""
    lowered = text.lower()
    return any(word in lowered for word in _INVALID_REQUEST_WORDS)


def retryable_status(status: int, text: str = "") -> bool:
    """Whether an HTTP error answer (``status``, body ``text``) may succeed if the request is sent again."""
    if status in _RETRY_ALWAYS:
        return True
    return status == 500 and not refuses_request(text)
