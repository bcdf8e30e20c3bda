"""The one envelope every event travels in, whatever its type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chalicelib.events.payloads import EventPayload

ENVELOPE_VERSION = 1


class EventEnvelope(BaseModel):
    """An event: who sent what and when; `payload` is validated against the type's model."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    event_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    event_type: str = Field(min_length=1, max_length=100)
    timestamp: datetime
    version: int = Field(default=ENVELOPE_VERSION, ge=1)
    source: str = Field(min_length=1, max_length=100)
    correlation_id: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        """The envelope as the JSON body a message carries (camelCase)."""
        return self.model_dump(mode="json", by_alias=True)


def new_event(
    event_type: str,
    payload: EventPayload,
    *,
    source: str,
    correlation_id: str | None = None,
    event_id: str | None = None,
) -> EventEnvelope:
    """A fresh envelope for `payload`.

    Pass a deterministic `event_id` when an effect may publish again after a crash, so QStash
    deduplicates the second publish. The correlation id defaults to the event id.
    """
    identifier = event_id or uuid.uuid4().hex
    return EventEnvelope(
        event_id=identifier,
        event_type=event_type,
        timestamp=datetime.now(UTC),
        source=source,
        correlation_id=correlation_id or identifier,
        payload=payload.model_dump(mode="json", by_alias=True),
    )
