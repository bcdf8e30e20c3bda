"""The body QStash POSTs to a callback or failure callback after delivery attempts."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.json_documents import UnreadableJsonError, read_json


class UnreadableCallbackError(ValueError):
    """A callback field that should hold base64-encoded JSON does not."""


def _decoded(text: str | None) -> bytes:
    try:
        return base64.b64decode(text or "", validate=True)
    except binascii.Error as exc:
        raise UnreadableCallbackError("not base64") from exc


class DeliveryCallback(BaseModel):
    """What QStash reports about a message: the last answer, the attempts, the original body."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: int
    body: str | None = None
    retried: int = Field(default=0, ge=0)
    max_retries: int | None = Field(default=None, alias="maxRetries")
    source_message_id: str = Field(alias="sourceMessageId")
    url: str | None = None
    source_body: str = Field(alias="sourceBody")
    dlq_id: str | None = Field(default=None, alias="dlqId")

    @property
    def attempts(self) -> int:
        """How many deliveries were tried."""
        return self.retried + 1

    def source_json(self) -> Any:
        """The original message's JSON body."""
        try:
            return read_json(_decoded(self.source_body))
        except UnreadableJsonError as exc:
            raise UnreadableCallbackError("source body is not JSON") from exc

    def last_error(self) -> str:
        """The consumer's last answer in words: its `error` field when JSON, else its text."""
        raw = _decoded(self.body).decode("utf-8", errors="replace").strip()
        try:
            parsed = read_json(raw)
        except UnreadableJsonError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            raw = parsed["error"]
        return (raw or f"status {self.status}")[:500]
