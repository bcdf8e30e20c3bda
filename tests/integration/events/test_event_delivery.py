"""The event bus end to end: QStash delivers to the app's verified topic routes; each event's
effect happens once, however often it arrives; a poison event ends as a dead letter and is
replayed; a forged or malformed delivery changes nothing and is never a 500."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.events.envelope import new_event
from chalicelib.events.payloads import AuditLog
from chalicelib.events.publishing import event_bus, publish_audit_log
from chalicelib.queue.outcome import NON_RETRYABLE_STATUS
from chalicelib.settings import get_settings
from tests.integration.events.conftest import AuditScript, EventsApi
from tests.waiting import wait_until

ANALYTICS = "/api/webhooks/analytics"


def _audit(**details: Any) -> AuditLog:
    return AuditLog(action="test", entity="probe", entity_id=uuid.uuid4().hex, details=details)


def _body(payload: AuditLog) -> bytes:
    return json.dumps(new_event("audit.log", payload, source="test").wire()).encode()


def test_a_consumer_that_fails_twice_then_succeeds_has_its_effect_once(
    script: AuditScript,
) -> None:
    event = publish_audit_log(_audit(failTimes=2), bus=event_bus(get_settings()))

    wait_until(lambda: event.event_id in script.effects, timeout=30, what="the effect")

    assert script.deliveries[event.event_id] == 3
    assert script.effects.count(event.event_id) == 1


def test_a_poison_event_becomes_a_dead_letter_and_a_replay_runs_it_once_healed(
    script: AuditScript, api: EventsApi
) -> None:
    payload = _audit()
    script.poisoned.add(payload.entity_id)
    event = publish_audit_log(payload, bus=event_bus(get_settings()))

    record = wait_until(
        lambda: api.find_dead_letter(event.event_id), timeout=30, what="the dead letter"
    )
    # 489 is final: no retries were spent on it.
    assert script.deliveries[event.event_id] == 1
    assert (record["lastStatus"], record["attempts"], record["status"]) == (
        NON_RETRYABLE_STATUS,
        1,
        "recorded",
    )
    assert "poisoned" in record["lastBody"]
    assert record["event"] == event.wire()
    assert record["topic"] == "analytics"
    wait_until(
        lambda: [a for a in script.announcements if a.event_id == event.event_id],
        timeout=30,
        what="the deadletter.recorded announcement",
    )
    assert script.effects.count(event.event_id) == 0

    script.poisoned.discard(payload.entity_id)
    replayed = api.replay(record["deadLetterId"])
    assert replayed.status_code == 202, replayed.body
    wait_until(lambda: event.event_id in script.effects, timeout=30, what="the replayed effect")

    after = api.find_dead_letter(event.event_id)
    assert after is not None
    assert after["status"] == "replayed"
    assert after["replayMessageId"] == json.loads(replayed.body)["replayMessageId"]
    assert after["replayMessageId"] != after["messageId"]
    assert script.effects.count(event.event_id) == 1
    again = api.replay(record["deadLetterId"])
    assert again.status_code == 409


def test_the_same_signed_event_twice_has_one_effect_and_the_second_is_a_duplicate(
    script: AuditScript, api: EventsApi
) -> None:
    body = _body(_audit())

    first = api.deliver(ANALYTICS, body)
    second = api.deliver(ANALYTICS, body)

    assert (first.status_code, json.loads(first.body)["duplicate"]) == (200, False)
    assert (second.status_code, json.loads(second.body)["duplicate"]) == (200, True)
    assert len(script.effects) == 1


def test_concurrent_duplicates_have_one_effect(script: AuditScript, api: EventsApi) -> None:
    body = _body(_audit(holdMs=300))

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: api.deliver(ANALYTICS, body), range(5)))

    assert len(script.effects) == 1
    answers = [(r.status_code, json.loads(r.body), r.headers.get("Retry-After")) for r in responses]
    assert [a for a in answers if a[0] == 200 and not a[1]["duplicate"]], answers
    for status, answer, retry_after in answers:
        # Done (now or before), or asked to come back while the first one runs.
        assert status == 200 or (status == 503 and retry_after and int(retry_after) >= 1), answer


def test_forged_deliveries_are_refused_and_change_nothing(
    script: AuditScript, api: EventsApi
) -> None:
    body = _body(_audit())

    forged = api.deliver(ANALYTICS, body, key="sig_notTheRealKey000000000000")
    other_route = api.deliver(ANALYTICS, body, signed_for="/api/webhooks/orders")
    unsigned = api.client.http.post(ANALYTICS, body=body)

    assert [r.status_code for r in (forged, other_route, unsigned)] == [401, 401, 401]
    assert script.deliveries == {}
    assert script.effects == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", NON_RETRYABLE_STATUS),
        (b"not json", NON_RETRYABLE_STATUS),
        # The SDK verifies signatures over text: bytes that are not UTF-8 cannot be verified.
        (b"\xff\xfe\xfd", 401),
        (b"[" * 10_000, NON_RETRYABLE_STATUS),
        (b'{"eventId": "x"}', NON_RETRYABLE_STATUS),
        (b"x" * 70_000, NON_RETRYABLE_STATUS),
    ],
)
def test_malformed_deliveries_are_rejected_for_good_never_a_500(
    script: AuditScript, api: EventsApi, body: bytes, status: int
) -> None:
    response = api.deliver(ANALYTICS, body)
    assert response.status_code == status, response.body
    assert script.deliveries == {}


def test_an_event_on_the_wrong_topic_route_is_rejected_for_good(
    script: AuditScript, api: EventsApi
) -> None:
    response = api.deliver("/api/webhooks/orders", _body(_audit()))
    assert response.status_code == NON_RETRYABLE_STATUS
    assert response.headers["Upstash-NonRetryable-Error"] == "true"
    assert script.deliveries == {}
