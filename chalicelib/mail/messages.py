"""An email the application sends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OutgoingEmail(BaseModel):
    """One plain-text email (with an optional HTML alternative) to one or more recipients.

    `message_id` is set by the caller from the effect's idempotency key, so a receiving system
    that still sees a resend (a crash between sending and recording) can recognise it.
    """

    model_config = ConfigDict(frozen=True)

    to: tuple[str, ...] = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=300)
    text: str
    html: str | None = None
    message_id: str | None = None
