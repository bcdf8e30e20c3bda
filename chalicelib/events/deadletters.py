"""Dead letters: events QStash gave up on, kept with why, and replayed on an admin's request.

The failure callback QStash sends once retries run out carries the original envelope, the last
answer and the attempts. The record's id is derived from the QStash message id, so a repeated
callback records the event once; every new record is announced as `deadletter.recorded`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from chalicelib.events.catalogue import Topic, UnknownEventTypeError, event_kind
from chalicelib.events.envelope import EventEnvelope
from chalicelib.events.payloads import DeadLetterRecorded
from chalicelib.events.publishing import EventBus, publish_dead_letter_recorded
from chalicelib.observability import count_metric, logger
from chalicelib.queue.callbacks import DeliveryCallback, UnreadableCallbackError

DeadLetterStatus = Literal["recorded", "replayed"]
DEAD_LETTER_ID_PATTERN = r"^dl_[0-9a-f]{32}$"
# A listing page's cursor: where the previous page stopped (a sortable time, then the id).
CURSOR_PATTERN = r"^\d{8}T\d{6}\.\d{6}Z\.dl_[0-9a-f]{32}$"
MAX_BODY_CHARS = 2000


class DeadLetter(BaseModel):
    """One event QStash could not deliver, as the admin API shows it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    dead_letter_id: str
    message_id: str
    dlq_id: str | None = None
    topic: Topic
    event: EventEnvelope
    last_status: int | None
    last_body: str
    attempts: int
    recorded_at: datetime
    status: DeadLetterStatus = "recorded"
    replayed_at: datetime | None = None
    replay_message_id: str | None = None


class DeadLettersQuery(BaseModel):
    """Which page of the listing to read."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN)


class UnreadableDeadLetterError(ValueError):
    """The failure callback does not carry an event envelope of the catalogue."""


class DeadLetterNotFoundError(LookupError):
    """No dead letter has that id."""


class AlreadyReplayedError(Exception):
    """The dead letter was replayed already; `record` is its current state."""

    def __init__(self, record: DeadLetter) -> None:
        super().__init__(f"dead letter {record.dead_letter_id} was already replayed")
        self.record = record


class DeadLetterStore(Protocol):
    """Persistence of dead letters."""

    def add(self, record: DeadLetter) -> tuple[DeadLetter, bool]:
        """Store `record` unless its id exists; the stored record and whether it was new."""
        ...

    def get(self, dead_letter_id: str) -> DeadLetter | None:
        """The dead letter, or None."""
        ...

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[DeadLetter], str | None]:
        """Up to `limit` dead letters, newest first, after `cursor`; and the next cursor."""
        ...

    def mark_replayed(self, record: DeadLetter, *, message_id: str, now: datetime) -> DeadLetter:
        """Mark a recorded dead letter replayed; `AlreadyReplayedError` if it was already."""
        ...


def dead_letter_id(message_id: str) -> str:
    """The dead letter id of a QStash message: the same for every callback about it."""
    return "dl_" + hashlib.sha256(message_id.encode()).hexdigest()[:32]


def _response_text(callback: DeliveryCallback) -> str:
    try:
        raw = base64.b64decode(callback.body or "", validate=True)
    except binascii.Error:
        raw = (callback.body or "").encode()
    return raw.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def dead_letter_from(callback: DeliveryCallback, now: datetime) -> DeadLetter:
    """The dead letter a failure callback describes; `UnreadableDeadLetterError` if none."""
    try:
        event = EventEnvelope.model_validate(callback.source_json())
        topic = event_kind(event.event_type).topic
    except (UnreadableCallbackError, ValidationError, UnknownEventTypeError) as exc:
        raise UnreadableDeadLetterError(f"not an event: {exc}") from exc
    return DeadLetter(
        dead_letter_id=dead_letter_id(callback.source_message_id),
        message_id=callback.source_message_id,
        dlq_id=callback.dlq_id,
        topic=topic,
        event=event,
        last_status=callback.status,
        last_body=_response_text(callback),
        attempts=callback.attempts,
        recorded_at=now,
    )


def record_dead_letter(
    callback: DeliveryCallback,
    *,
    store: DeadLetterStore,
    bus: EventBus,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[DeadLetter, bool]:
    """Keep the event the callback reports and announce it; the record and whether it is new.

    A repeated callback finds the record and announces it again under the same event id, which
    QStash and the consumers deduplicate: a crash between the write and the publish loses
    nothing. Raises `PublishFailedError` when the announcement cannot be published.
    """
    record, created = store.add(dead_letter_from(callback, now()))
    if created:
        logger.warning(
            "event dead-lettered",
            extra={"event_id": record.event.event_id, "dead_letter_id": record.dead_letter_id},
        )
        count_metric("EventDeadLettered", eventType=record.event.event_type)
    # An announcement that itself dead-letters is not announced again: that would never end.
    if record.event.event_type != "deadletter.recorded":
        publish_dead_letter_recorded(
            DeadLetterRecorded(
                dead_letter_id=record.dead_letter_id,
                event_id=record.event.event_id,
                event_type=record.event.event_type,
                last_status=record.last_status,
            ),
            correlation_id=record.event.correlation_id,
            event_id=f"deadletter-{record.dead_letter_id}",
            bus=bus,
        )
    return record, created


def replay_dead_letter(
    dead_letter_id: str,
    *,
    store: DeadLetterStore,
    bus: EventBus,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeadLetter:
    """Publish the dead letter's original envelope again (same event id) and mark it replayed.

    The consumer's idempotency still holds: an event whose effect happened is answered as a
    duplicate, one whose effect never happened runs. Raises `DeadLetterNotFoundError`,
    `AlreadyReplayedError`, or `PublishFailedError` (nothing is marked then).
    """
    record = store.get(dead_letter_id)
    if record is None:
        raise DeadLetterNotFoundError(dead_letter_id)
    if record.status == "replayed":
        raise AlreadyReplayedError(record)
    receipt = bus.publish(
        record.topic,
        record.event,
        # Its own deduplication id: QStash would drop the event id as a repeat of the original,
        # while two replays of this dead letter still make one message.
        deduplication_id=f"{record.event.event_id}.replay.{record.dead_letter_id}",
    )
    return store.mark_replayed(record, message_id=receipt.message_id, now=now())
