"""The failure callback and the admin routes over dead letters, called directly."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from chalicelib.events.deadletters import dead_letter_id
from chalicelib.events.envelope import new_event
from chalicelib.events.payloads import AuditLog
from chalicelib.events.publishing import FAILURE_CALLBACK_PATH
from tests.integration.events.conftest import AuditScript, EventsApi
from tests.waiting import wait_until


def _callback(message_id: str, payload: AuditLog | None = None) -> tuple[bytes, str]:
    event = new_event(
        "audit.log",
        payload or AuditLog(action="test", entity="probe", entity_id=uuid.uuid4().hex),
        source="test",
    )
    body = {
        "status": 500,
        "body": base64.b64encode(b'{"error": "handler failed"}').decode(),
        "retried": 3,
        "maxRetries": 3,
        "sourceMessageId": message_id,
        "sourceBody": base64.b64encode(json.dumps(event.wire()).encode()).decode(),
        "url": "http://app/api/webhooks/analytics",
    }
    return json.dumps(body).encode(), event.event_id


def _json(response: Any) -> Any:
    return json.loads(response.body)


def test_a_repeated_failure_callback_records_one_dead_letter(
    script: AuditScript, api: EventsApi
) -> None:
    message_id = f"msg_{uuid.uuid4().hex}"
    body, event_id = _callback(message_id)

    first = api.deliver(FAILURE_CALLBACK_PATH, body)
    second = api.deliver(FAILURE_CALLBACK_PATH, body)

    assert (first.status_code, _json(first)["created"]) == (200, True)
    assert (second.status_code, _json(second)["created"]) == (200, False)
    assert (
        _json(first)["deadLetterId"] == _json(second)["deadLetterId"] == dead_letter_id(message_id)
    )
    record = api.find_dead_letter(event_id)
    assert record is not None
    assert (record["lastStatus"], record["attempts"], record["messageId"]) == (500, 4, message_id)
    # Announced once as far as the consumer is concerned (same event id both times).
    wait_until(
        lambda: [a for a in script.announcements if a.event_id == event_id],
        timeout=30,
        what="the announcement",
    )


def test_a_forged_or_unreadable_failure_callback_records_nothing(api: EventsApi) -> None:
    message_id = f"msg_{uuid.uuid4().hex}"
    body, event_id = _callback(message_id)

    forged = api.deliver(FAILURE_CALLBACK_PATH, body, key="sig_notTheRealKey000000000000")
    unreadable = api.deliver(FAILURE_CALLBACK_PATH, b'{"status": "x"}')
    not_an_event = api.deliver(
        FAILURE_CALLBACK_PATH,
        json.dumps(
            {"status": 500, "sourceMessageId": "m", "sourceBody": base64.b64encode(b"{}").decode()}
        ).encode(),
    )

    assert forged.status_code == 401
    assert unreadable.status_code == 489
    assert not_an_event.status_code == 489
    assert api.find_dead_letter(event_id) is None


def test_the_admin_routes_want_the_admin_token(api: EventsApi) -> None:
    dead_letter = dead_letter_id("msg_unknown")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        assert api.dead_letters(headers=headers).status_code == 401
        assert api.replay(dead_letter, headers=headers).status_code == 401


def test_the_listing_pages_newest_first(script: AuditScript, api: EventsApi) -> None:
    recorded = []
    for _ in range(3):
        body, event_id = _callback(f"msg_{uuid.uuid4().hex}")
        assert api.deliver(FAILURE_CALLBACK_PATH, body).status_code == 200
        recorded.append(event_id)

    first = _json(api.dead_letters("?limit=2"))
    second = _json(api.dead_letters(f"?limit=1&cursor={first['nextCursor']}"))

    assert len(first["deadLetters"]) == 2
    newest_first = [r["event"]["eventId"] for r in first["deadLetters"] + second["deadLetters"]]
    assert newest_first == list(reversed(recorded))


def test_bad_listing_queries_and_unknown_ids(api: EventsApi) -> None:
    for query in ("?limit=0", "?limit=abc", "?cursor=nope", "?colour=red"):
        response = api.dead_letters(query)
        assert response.status_code == 400, query
    assert api.replay("not-an-id").status_code == 404
    assert api.replay(dead_letter_id(f"msg_{uuid.uuid4().hex}")).status_code == 404
