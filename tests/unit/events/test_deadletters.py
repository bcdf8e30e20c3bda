"""Dead letters: recorded once per QStash message from its failure callback, announced, listed,
and replayed under a fresh deduplication id."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.events.deadletters import (
    AlreadyReplayedError,
    DeadLetterNotFoundError,
    UnreadableDeadLetterError,
    dead_letter_id,
    record_dead_letter,
    replay_dead_letter,
)
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import AuditLog, DeadLetterRecorded
from chalicelib.events.publishing import EventBus
from chalicelib.queue.callbacks import DeliveryCallback
from chalicelib.queue.publisher import PublishFailedError
from tests.unit.events.fakes import InMemoryDeadLetterStore, RecordingPublisher

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _callback(event: EventEnvelope, message_id: str = "msg_1", **fields: Any) -> DeliveryCallback:
    body = {
        "status": 489,
        "body": _b64(b'{"error": "no such order"}'),
        "retried": 0,
        "maxRetries": 3,
        "sourceMessageId": message_id,
        "sourceBody": _b64(json.dumps(event.wire()).encode()),
        "dlqId": "dlq_1",
        **fields,
    }
    return DeliveryCallback.model_validate(body)


def _event(event_type: str = "audit.log") -> EventEnvelope:
    if event_type == "deadletter.recorded":
        payload: Any = DeadLetterRecorded(dead_letter_id="d", event_id="e", event_type="audit.log")
    else:
        payload = AuditLog(action="create", entity="order", entity_id="o1")
    return new_event(event_type, payload, source="test", correlation_id="corr-7")


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def bus(publisher: RecordingPublisher) -> EventBus:
    return EventBus(publisher, "https://app.example")


def test_a_failure_callback_records_the_event_with_why_and_announces_it(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    store, event = InMemoryDeadLetterStore(), _event()

    record, created = record_dead_letter(
        _callback(event, retried=3), store=store, bus=bus, now=lambda: NOW
    )

    assert created is True
    assert record.dead_letter_id == dead_letter_id("msg_1")
    assert record.event == event
    assert (record.topic, record.last_status, record.attempts) == ("analytics", 489, 4)
    assert record.last_body == '{"error": "no such order"}'
    assert (record.status, record.dlq_id, record.recorded_at) == ("recorded", "dlq_1", NOW)
    assert store.get(record.dead_letter_id) == record
    (announcement,) = publisher.messages
    assert announcement.url.endswith("/api/webhooks/analytics")
    assert announcement.body["eventType"] == "deadletter.recorded"
    assert announcement.body["correlationId"] == "corr-7"
    assert announcement.body["payload"] == {
        "deadLetterId": record.dead_letter_id,
        "eventId": event.event_id,
        "eventType": "audit.log",
        "lastStatus": 489,
    }


def test_a_repeated_callback_records_once_and_announces_under_the_same_id(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    store, event = InMemoryDeadLetterStore(), _event()
    first, _ = record_dead_letter(_callback(event), store=store, bus=bus, now=lambda: NOW)
    later = NOW + timedelta(minutes=1)

    again, created = record_dead_letter(_callback(event), store=store, bus=bus, now=lambda: later)

    assert created is False
    assert again == first
    assert len(store.records) == 1
    first_id, second_id = (m.deduplication_id for m in publisher.messages)
    assert first_id == second_id


def test_an_announcement_that_dead_letters_is_recorded_but_not_announced_again(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    store = InMemoryDeadLetterStore()
    record, _ = record_dead_letter(
        _callback(_event("deadletter.recorded")), store=store, bus=bus, now=lambda: NOW
    )
    assert record.event.event_type == "deadletter.recorded"
    assert publisher.messages == []


@pytest.mark.parametrize(
    "source",
    [b"not json", b'{"eventId": "x"}', b'{"hello": "world"}'],
)
def test_a_callback_about_something_other_than_an_event_is_unreadable(
    bus: EventBus, source: bytes
) -> None:
    callback = _callback(_event(), sourceBody=_b64(source))
    store = InMemoryDeadLetterStore()
    with pytest.raises(UnreadableDeadLetterError):
        record_dead_letter(callback, store=store, bus=bus)
    assert store.records == {}


def test_a_replay_republishes_the_same_envelope_and_marks_the_record(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    store, event = InMemoryDeadLetterStore(), _event()
    record, _ = record_dead_letter(_callback(event), store=store, bus=bus, now=lambda: NOW)
    later = NOW + timedelta(hours=1)

    replayed = replay_dead_letter(record.dead_letter_id, store=store, bus=bus, now=lambda: later)

    message = publisher.messages[-1]
    assert message.body == event.wire()
    assert message.url.endswith("/api/webhooks/analytics")
    # Not the event id: QStash would drop that as a repeat within its window.
    assert message.deduplication_id != event.event_id
    assert record.dead_letter_id in message.deduplication_id
    assert (replayed.status, replayed.replayed_at) == ("replayed", later)
    assert replayed.replay_message_id == "msg_2_0"
    assert store.get(record.dead_letter_id) == replayed
    with pytest.raises(AlreadyReplayedError):
        replay_dead_letter(record.dead_letter_id, store=store, bus=bus)


def test_a_replay_that_cannot_publish_changes_nothing(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    store = InMemoryDeadLetterStore()
    record, _ = record_dead_letter(_callback(_event()), store=store, bus=bus, now=lambda: NOW)
    publisher.down = True
    with pytest.raises(PublishFailedError):
        replay_dead_letter(record.dead_letter_id, store=store, bus=bus)
    assert store.get(record.dead_letter_id) == record


def test_replaying_an_unknown_dead_letter_is_not_found(bus: EventBus) -> None:
    with pytest.raises(DeadLetterNotFoundError):
        replay_dead_letter(dead_letter_id("msg_x"), store=InMemoryDeadLetterStore(), bus=bus)


def test_dead_letter_ids_are_deterministic_and_distinct() -> None:
    assert dead_letter_id("msg_1") == dead_letter_id("msg_1")
    assert dead_letter_id("msg_1") != dead_letter_id("msg_2")
    assert dead_letter_id("msg_1").startswith("dl_")
