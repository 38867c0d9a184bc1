"""The one redaction helper: secrets never leave the process in configs, errors or reports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from memlane.config import MemoryConfig
from memlane.redact import REDACTED, is_secret_key, redact, redact_text, redact_url, redacted_config

SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "key",
    [
        "api_key", "apiKey", "API_KEY", "OPENAI_API_KEY", "X-Api-Key", "x-api-key", "password",
        "db_password", "passwd", "token", "hf_token", "access_token", "refresh_token", "secret",
        "client_secret", "secret_key", "Authorization", "credentials", "private_key", "aws_access_key_id",
        "Cookie", "basic_auth",
    ],
)  # fmt: skip
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "context_tokens", "key", "model", "base_url", "author", "provider", "path", "host", 3],
)
def test_ordinary_keys(key: Any) -> None:
    assert not is_secret_key(key)


def test_nested_dicts_lists_and_tuples() -> None:
    data: dict[str, Any] = {
        "llm": {"provider": "openai", "config": {"api_key": SECRET, "model": "gpt", "max_tokens": 300}},
        "headers": [{"Authorization": f"Bearer {SECRET}"}, ("x", {"X-Api-Key": SECRET})],
        "credentials": {"user": "ann", "password": SECRET},
        "unset": {"api_key": None, "token": ""},
        "count": 3,
    }
    out = redact(data)
    assert SECRET not in json.dumps(out)
    assert out["llm"]["config"] == {"api_key": REDACTED, "model": "gpt", "max_tokens": 300}
    assert out["headers"][0] == {"Authorization": REDACTED}
    assert out["headers"][1] == ("x", {"X-Api-Key": REDACTED})
    assert out["credentials"] == {"user": REDACTED, "password": REDACTED}
    assert out["unset"] == {"api_key": None, "token": ""}  # "not set" stays visible
    assert out["count"] == 3
    assert data["llm"]["config"]["api_key"] == SECRET  # the input is not changed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://ann:pw-123@db.example:5432/mem", f"postgresql://ann:{REDACTED}@db.example:5432/mem"),
        ("redis://:p@ss@localhost:6379", f"redis://:{REDACTED}@localhost:6379"),
        ("https://ghp_abcdef@github.com/x.git", f"https://{REDACTED}@github.com/x.git"),
        ("http://localhost:8080/v1", "http://localhost:8080/v1"),
        ("https://h/v1?api_key=abc&model=m", f"https://h/v1?api_key={REDACTED}&model=m"),
        ("https://h/v1?token=abc", f"https://h/v1?token={REDACTED}"),
    ],
)
def test_urls(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact({"base_url": url}) == {"base_url": expected}


def test_free_text() -> None:
    text = (
        f"invalid config: input_value={{'api_key': '{SECRET}', 'model': 'm'}}; "
        f'json {{"password": "{SECRET}"}}; env TOKEN={SECRET} and Authorization: Bearer {SECRET} '
        f"at postgresql://u:{SECRET}@h/db"
    )
    out = redact_text(text)
    assert SECRET not in out
    assert "'model': 'm'" in out and "postgresql://u:***@h/db" in out
    assert redact_text("max_tokens=300, model=gpt") == "max_tokens=300, model=gpt"


def test_pydantic_models_and_secret_str() -> None:
    class Section(BaseModel):
        api_key: SecretStr | None = None
        config: dict[str, Any] = {}

    out = redact(Section(api_key=SecretStr(SECRET), config={"password": SECRET, "host": "h"}))
    assert out == {"api_key": REDACTED, "config": {"password": REDACTED, "host": "h"}}
    assert redact(SecretStr(SECRET)) == REDACTED


def mem0_style_config() -> dict[str, Any]:
    return {
        "llm": {"provider": "openai", "config": {"api_key": SECRET, "model": "gpt-4o-mini"}},
        "embedder": {"provider": "hash"},
        "graph_store": {"provider": "sqlite", "llm": {"provider": "openai", "config": {"api_key": SECRET}}},
    }


def test_redacted_config_of_memory_config() -> None:
    config = MemoryConfig.load(mem0_style_config())
    view = redacted_config(config)
    assert SECRET not in json.dumps(view)
    assert view["llm"]["config"] == {"api_key": REDACTED, "model": "gpt-4o-mini"}
    assert view["embedder"]["provider"] == "hash"
    assert config.llm is not None and config.llm.config["api_key"] == SECRET  # still usable


def test_config_repr_and_str_hide_secrets() -> None:
    config = MemoryConfig.load(mem0_style_config())
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert config.llm is not None and SECRET not in repr(config.llm)
    assert "gpt-4o-mini" in repr(config)


@pytest.mark.parametrize(
    "bad",
    [
        {"llm": {"provider": "openai", "config": {"api_key": SECRET, "model": "m", "bogus_field": 1}}},
        {"llm": {"provider": "openai", "api_key": SECRET}},  # misplaced: outside "config"
        {"llm": {"provider": "openai", "config": {"api_key": [SECRET], "model": "m"}}},
        {"llm": [SECRET]},
    ],
)
def test_config_error_hides_secrets(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as caught:
        MemoryConfig.load(bad)
    assert "llm" in str(caught.value)
    assert SECRET not in str(caught.value)
