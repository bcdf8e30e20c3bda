"""What the application hands to QStash, and what it gets back."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OutgoingMessage(BaseModel):
    """One JSON message for QStash to deliver, signed, as a POST to `url`."""

    model_config = ConfigDict(frozen=True)

    url: str
    body: dict[str, Any]
    # Always set: a producer that retries its own publish must not create a second message.
    deduplication_id: str = Field(min_length=1, max_length=200)
    failure_callback: str | None = None
    retries: int | None = Field(default=None, ge=0, le=10)
    delay_seconds: int | None = Field(default=None, ge=0)


class PublishReceipt(BaseModel):
    """QStash's answer to one publish."""

    message_id: str
    deduplicated: bool = False
