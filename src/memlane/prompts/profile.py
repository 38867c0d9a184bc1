"""Profile slots in add()'s one LLM call: the response fields and the prompt block.

When ``profile.enabled``, the single call's response model also inherits ``ProfileFields``
(and the classic pipeline's extraction call does), and its user message gains
``profile_block``: the allowed keys and the scope's current values, so the model reports only
what the conversation sets, changes or clears. Every array and string is bounded (small local
models otherwise repeat items until ``max_tokens``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_PROFILE_ITEMS",
    "MAX_PROFILE_VALUE_CHARS",
    "ProfileFields",
    "ProfileItem",
    "clean_value",
    "profile_block",
]

MAX_PROFILE_ITEMS = 20
MAX_PROFILE_VALUE_CHARS = 120
_CLEARING = frozenset({"", "null"})


class ProfileItem(BaseModel):
    """One slot the conversation sets (a short value) or clears (null)."""

    model_config = ConfigDict(extra="ignore")

    key: str = Field(max_length=60, description="one of the allowed profile keys")
    value: str | None = Field(
        max_length=MAX_PROFILE_VALUE_CHARS,
        description="the new value, a short phrase; null when the conversation says it no longer holds",
    )


class ProfileFields(BaseModel):
    """The ``profile`` field; the response models of the profile-enabled calls inherit it."""

    model_config = ConfigDict(extra="ignore")

    profile: list[ProfileItem] = Field(
        default_factory=list,
        max_length=MAX_PROFILE_ITEMS,
        description="profile slots the conversation sets, changes or clears; [] when none",
    )


def clean_value(value: str | None) -> str | None:
    """A slot value with its spacing collapsed; None (clear the slot) for null, "" or "null"."""
    if value is None:
        return None
    text = " ".join(value.split())
    return None if text.lower() in _CLEARING else text


def profile_block(keys: Sequence[str], current: Mapping[str, str], user_name: str) -> str:
    """The user-message section that asks for profile slots and shows the current ones."""
    shown = "\n".join(f"{key}: {current[key]}" for key in keys if key in current) or "(none)"
    return (
        f'Profile of the user ({user_name}): also fill "profile" with the slots this conversation '
        'sets, changes or clears, as {"key": ..., "value": ...}: the value a short phrase, null '
        "when the conversation says it no longer holds. Only facts the user states about "
        "themselves; leave out slots it does not mention or that already hold that value; [] "
        f"when none. Allowed keys: {', '.join(keys)}.\n"
        f"Current profile:\n{shown}"
    )
