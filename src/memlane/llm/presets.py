"""Defaults of the OpenAI-compatible hosts: where they listen, which key and model they use.

Each preset is registered as its own ``llm`` provider name over the same ``OpenAILLM`` class;
they differ only in these defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True, slots=True)
class Preset:
    """One OpenAI-compatible host."""

    name: str
    base_url: str
    model: str
    key_env: str | None = None
    base_url_env: str | None = None
    api_suffix: str = ""
    """Appended to a configured base URL that lacks it (mem0's ``ollama_base_url`` has no /v1)."""
    top_k: bool = True
    """Whether the host takes ``top_k`` (OpenAI rejects it; mem0 configs often carry one)."""

    def resolve_base_url(self, configured: str | None) -> str:
        """The configured base URL, else the environment's, else the public default; no trailing /."""
        env = os.environ.get(self.base_url_env) if self.base_url_env else None
        url = (configured or env or self.base_url).rstrip("/")
        if self.api_suffix and not url.endswith(self.api_suffix):
            url += self.api_suffix
        return url

    def env_key(self) -> str | None:
        """The API key from this host's environment variable, if set."""
        return os.environ.get(self.key_env) if self.key_env else None


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "openai",
            "https://api.openai.com/v1",
            "gpt-4.1-nano",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            top_k=False,
        ),
        Preset("ollama", "http://localhost:11434", "llama3.1", api_suffix="/v1"),
        Preset(
            "vllm", "http://localhost:8000/v1", "Qwen/Qwen2.5-7B-Instruct", "VLLM_API_KEY", "VLLM_BASE_URL"
        ),
        Preset(
            "lmstudio", "http://localhost:1234/v1", "local-model", "LMSTUDIO_API_KEY", "LMSTUDIO_BASE_URL"
        ),
        Preset("llama_cpp", "http://localhost:8080/v1", "local-model", "LLAMA_API_KEY", "LLAMA_CPP_BASE_URL"),
        Preset(
            "groq", "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile", "GROQ_API_KEY", top_k=False
        ),
        Preset(
            "together",
            "https://api.together.xyz/v1",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "TOGETHER_API_KEY",
        ),
        Preset(
            "deepseek",
            "https://api.deepseek.com/v1",
            "deepseek-chat",
            "DEEPSEEK_API_KEY",
            "DEEPSEEK_API_BASE",
            top_k=False,
        ),
        Preset(
            "openrouter",
            "https://openrouter.ai/api/v1",
            "openai/gpt-4.1-nano",
            "OPENROUTER_API_KEY",
            "OPENROUTER_API_BASE",
        ),
    )
}
"""The OpenAI-compatible hosts by provider name."""
