"""Image description: what a shared image shows, as text that can be remembered."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.models import ChatMessage

__all__ = ["ImageDescription", "build_messages"]


class ImageDescription(BaseModel):
    model_config = ConfigDict(extra="ignore")

    description: str = Field(min_length=1, max_length=1000)


def build_messages(image_url: str, detail: str = "auto") -> list[ChatMessage]:
    return [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "Describe this image in one or two sentences: who or what is in it, "
                    'where, and anything notable. Answer with JSON only: {"description": "..."}.',
                },
                {"type": "image_url", "image_url": {"url": image_url, "detail": detail}},
            ],
        }
    ]
