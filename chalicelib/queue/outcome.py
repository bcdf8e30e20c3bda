"""What a QStash consumer answers, by QStash's delivery contract.

2xx: done. 5xx (optionally with Retry-After): try again later. 489 with
`Upstash-NonRetryable-Error: true`: failed for good, straight to the DLQ without burning retries.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

NON_RETRYABLE_STATUS = 489


class DeliveryOutcome(BaseModel):
    """A consumer's answer, independent of how the edge (route, Function URL) sends it."""

    status_code: int
    body: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def done(cls, **body: Any) -> DeliveryOutcome:
        """The message's effect has happened (now or before): do not deliver it again."""
        return cls(status_code=200, body={"ok": True, **body})

    @classmethod
    def retry_later(cls, reason: str, after_seconds: int | None = None) -> DeliveryOutcome:
        """A transient problem: QStash should deliver again (after `after_seconds` if given)."""
        headers = {} if after_seconds is None else {"Retry-After": str(max(1, after_seconds))}
        return cls(status_code=503, body={"error": reason}, headers=headers)

    @classmethod
    def failed(cls, reason: str) -> DeliveryOutcome:
        """An error on our side that another attempt may not repeat (QStash retries a 500)."""
        return cls(status_code=500, body={"error": reason})

    @classmethod
    def rejected_permanently(cls, reason: str) -> DeliveryOutcome:
        """The message can never succeed (bad payload, unknown type): dead-letter it now."""
        return cls(
            status_code=NON_RETRYABLE_STATUS,
            body={"error": reason},
            headers={"Upstash-NonRetryable-Error": "true"},
        )

    @classmethod
    def unauthenticated(cls, reason: str) -> DeliveryOutcome:
        """The request is not from QStash: refuse it and change nothing."""
        return cls(status_code=401, body={"error": reason})
