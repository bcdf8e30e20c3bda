"""The DynamoDB dead-letter store against the local DynamoDB: conditional, transactional writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.events.deadletters import AlreadyReplayedError, DeadLetter, dead_letter_id
from chalicelib.events.dynamodb_deadletters import dead_letter_store
from chalicelib.events.envelope import new_event
from chalicelib.events.payloads import AuditLog
from chalicelib.settings import get_settings
from devstack.stack import LocalStack


def _record(recorded_at: datetime) -> DeadLetter:
    message_id = f"msg_{uuid.uuid4().hex}"
    event = new_event("audit.log", AuditLog(action="a", entity="e", entity_id="1"), source="t")
    return DeadLetter(
        dead_letter_id=dead_letter_id(message_id),
        message_id=message_id,
        topic="analytics",
        event=event,
        last_status=500,
        last_body="boom",
        attempts=4,
        recorded_at=recorded_at,
    )


def test_a_dead_letter_is_added_once_and_replayed_once(local_stack: LocalStack) -> None:
    get_settings.cache_clear()
    store = dead_letter_store(get_settings())
    now = datetime.now(UTC)
    record = _record(now)

    assert store.add(record) == (record, True)
    assert store.add(record.model_copy(update={"attempts": 9})) == (record, False)
    assert store.get(record.dead_letter_id) == record

    replayed = store.mark_replayed(record, message_id="msg_new", now=now + timedelta(seconds=1))
    assert (replayed.status, replayed.replay_message_id) == ("replayed", "msg_new")
    with pytest.raises(AlreadyReplayedError) as refused:
        store.mark_replayed(record, message_id="msg_other", now=now)
    assert refused.value.record.replay_message_id == "msg_new"
    assert store.get(record.dead_letter_id) == replayed
    # The listing shows the new state too.
    page, _ = store.page(limit=200, cursor=None)
    assert [r for r in page if r.dead_letter_id == record.dead_letter_id] == [replayed]
    assert store.get(dead_letter_id("msg_never")) is None
