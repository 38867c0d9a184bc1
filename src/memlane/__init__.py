"""memlane: long-term memory for LLM applications and agents, with mem0's API."""

from memlane.config import MemoryConfig
from memlane.errors import (
    ConfigError,
    DimensionMismatchError,
    EmbedderError,
    EmbedderMismatchError,
    EmptyOutputError,
    InvalidFilterError,
    InvalidInputError,
    LLMError,
    MemlaneError,
    MissingDependencyError,
    NotFoundError,
    ProviderError,
    RerankError,
    StoreError,
    UnknownProviderError,
)
from memlane.memory import AsyncMemory, Memory
from memlane.registry import providers

__all__ = [
    "AsyncMemory",
    "ConfigError",
    "DimensionMismatchError",
    "EmbedderError",
    "EmbedderMismatchError",
    "EmptyOutputError",
    "InvalidFilterError",
    "InvalidInputError",
    "LLMError",
    "MemlaneError",
    "Memory",
    "MemoryConfig",
    "MissingDependencyError",
    "NotFoundError",
    "ProviderError",
    "RerankError",
    "StoreError",
    "UnknownProviderError",
    "__version__",
    "providers",
]

__version__ = "0.1.0"
