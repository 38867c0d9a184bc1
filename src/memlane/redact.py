"""One place that hides secrets before a config, an error or a report leaves the process.

``redact(obj)`` returns a copy of ``obj`` (nested dicts, lists, tuples, strings, pydantic
models, ``SecretStr``) in which

- the value of every secret-looking key (``api_key``, ``password``, ``token``, ``secret``,
  ``authorization``, ``credentials``, ``private_key``, ``cookie``… in any case or separator
  style: ``apiKey``, ``X-Api-Key``, ``OPENAI_API_KEY``) is replaced by ``REDACTED``;
- credentials inside URLs (``postgresql://user:pw@host`` -> ``postgresql://user:***@host``)
  and secret-looking query parameters (``?api_key=...``) are masked in every string;
- ``Bearer <token>`` in a string and ``key=value`` / ``"key": "value"`` pairs with a secret key in
  free text (an error message quoting a config) are masked.

Empty values (``None``, ``""``) stay as they are: they hold no secret and say "not set".
``redact_text`` applies the string rules to one text; ``redacted_config`` gives the redacted
dict of a ``MemoryConfig`` (or any pydantic model). Depends on nothing else of memlane.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

__all__ = [
    "REDACTED",
    "is_secret_key",
    "redact",
    "redact_secrets",
    "redact_text",
    "redact_url",
    "redacted_config",
    "secrets_of_url",
]

REDACTED = "***"
"""What a secret is replaced with."""

_SECRET_WORDS = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "token", "authorization", "auth",
        "apikey", "credential", "credentials", "cookie", "signature",
    }
)  # fmt: skip
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_KEY_CHARS = r"[A-Za-z0-9_.\-]"
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/?#@\s]*):(?P<pw>[^/?#\s]*)@")
_URL_TOKEN_ONLY = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/?#@\s]+)@")
_QUERY_PARAM = re.compile(rf"(?P<sep>[?&;])(?P<key>{_KEY_CHARS}+)=(?P<value>[^&#\s'\"]*)")
_BEARER = re.compile(r"\b(?P<kind>Bearer)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})", re.IGNORECASE)
_PAIR = re.compile(
    rf"(?P<q1>['\"]?)(?P<key>{_KEY_CHARS}+)(?P=q1)(?P<sep>\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;}\])'\"]+)"
)


def is_secret_key(key: object) -> bool:
    """Whether a mapping key names a secret (``api_key``, ``X-Api-Key``, ``hf_token``,
    ``password``…; not ``max_tokens`` or ``key``)."""
    if not isinstance(key, str):
        return False
    words = [w.lower() for w in _WORD.findall(key)]
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))


def redact_url(url: str) -> str:
    """``url`` with its password (or a lone user token) and secret query parameters masked."""
    return _redact_urls(url)


def redact_text(text: str) -> str:
    """A free text (an error message, a log line) with URL credentials, bearer tokens and
    ``secret_key=value`` pairs masked."""
    text = _redact_urls(text)
    text = _BEARER.sub(lambda m: f"{m.group('kind')} {REDACTED}", text)
    return _PAIR.sub(_mask_pair, text)


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each known secret value (an API key, a URL password) masked wherever it
    appears, then :func:`redact_text`'s rules (for an error echoing a request)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return redact_text(text)


def secrets_of_url(url: str | None) -> list[str]:
    """The user name and password a URL carries (``http://user:pass@host``), if any: the values
    :func:`redact_secrets` should mask in what an endpoint answers."""
    if not url:
        return []
    parts = urlsplit(url)
    return [s for s in (parts.password, parts.username) if s]


def redact(obj: Any) -> Any:
    """A copy of ``obj`` with every secret masked (see the module docstring)."""
    if isinstance(obj, (SecretStr, SecretBytes)):
        return REDACTED if obj.get_secret_value() else ""
    if isinstance(obj, BaseModel):
        return redact(obj.model_dump(mode="json"))
    if isinstance(obj, Mapping):
        return {k: _redact_value(v) if is_secret_key(k) else redact(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(redact(v) for v in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def redacted_config(config: BaseModel) -> dict[str, Any]:
    """The redacted dict of a ``MemoryConfig`` (or any config model), safe to print or write."""
    out = redact(config)
    assert isinstance(out, dict)
    return out


def _redact_value(value: Any) -> Any:
    """The value of a secret key: masked unless empty; a nested mapping keeps its keys (and its
    empty values) with every other value masked."""
    if value is None or value == "":
        return value
    if isinstance(value, (SecretStr, SecretBytes)):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    return REDACTED


def _redact_urls(text: str) -> str:
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{REDACTED}@", text)
        text = _URL_TOKEN_ONLY.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return _QUERY_PARAM.sub(_mask_param, text)


def _mask_param(match: re.Match[str]) -> str:
    if not is_secret_key(match.group("key")) or not match.group("value"):
        return match.group(0)
    return f"{match.group('sep')}{match.group('key')}={REDACTED}"


def _mask_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    if not is_secret_key(match.group("key")) or value in ("None", "null", "''", '""'):
        return match.group(0)
    if value == REDACTED or value.strip("'\"") in (REDACTED, "**********"):
        return match.group(0)
    quote = value[0] if value[0] in "'\"" else ""
    q1 = match.group("q1")
    return f"{q1}{match.group('key')}{q1}{match.group('sep')}{quote}{REDACTED}{quote}"
