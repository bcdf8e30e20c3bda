"""Failed deliveries: backoff, Retry-After, retry-delay expressions, 489, the DLQ and callbacks."""

from __future__ import annotations

import base64
import itertools
import json

from qstash.log import LogState

from tests.integration.devstack.qstash_fixtures import (
    Delivery,
    QStashHarness,
    RecordingReceiver,
    Reply,
    api_error,
    single_id,
    wait_until,
)


def _gaps(deliveries: list[Delivery]) -> list[float]:
    return [later.started - earlier.started for earlier, later in itertools.pairwise(deliveries)]


def test_exhausted_retries_land_in_the_dlq_with_the_last_response(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/down", Reply(status=500, body=b"boom", headers={"X-Why": "db"}))
    message_id = single_id(
        qstash.client.message.publish_json(
            url=receiver.url("/down"), body={"n": 1}, retries=2, label="nightly"
        )
    )

    deliveries = receiver.wait_for("/down", 3)
    assert [d.retried for d in deliveries] == [0, 1, 2]
    assert {d.message_id for d in deliveries} == {message_id}
    # Default backoff e^(2.5n) s at 0.001: ~12 ms, then ~148 ms.
    first_gap, second_gap = _gaps(deliveries)
    assert first_gap >= 0.010
    assert second_gap >= 0.13

    entries = wait_until(lambda: qstash.client.dlq.list().messages, what="a DLQ entry")
    (entry,) = entries
    assert entry.message_id == message_id
    assert entry.response_status == 500
    assert entry.response_body == "boom"
    assert entry.response_headers is not None
    assert entry.response_headers["X-Why"] == ["db"]
    assert entry.max_retries == 2
    assert entry.label == "nightly"
    assert qstash.client.dlq.get(entry.dlq_id).body == json.dumps({"n": 1})
    states = [log.state for log in qstash.client.log.list(filter={"message_id": message_id}).logs]
    assert states[0] is LogState.FAILED
    assert states.count(LogState.ERROR) == 3
    assert states.count(LogState.RETRY) == 2
    assert len(receiver.deliveries("/down")) == 3


def test_dlq_delete_bulk_delete_and_retry(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/flaky", *[Reply(status=500)] * 3, Reply(status=200))
    for n in range(3):
        qstash.client.message.publish_json(url=receiver.url("/flaky"), body=n, retries=0)
    entries = wait_until(
        lambda: found if len(found := qstash.client.dlq.list().messages) == 3 else None,
        what="three DLQ entries",
    )

    retried = qstash.raw("POST", f"/v2/dlq/retry/{entries[0].dlq_id}")
    qstash.client.dlq.delete(entries[1].dlq_id)

    assert retried["messageId"] != entries[0].message_id
    delivered = wait_until(
        lambda: [d for d in receiver.deliveries("/flaky") if d.message_id == retried["messageId"]],
        what="the retried message",
    )
    assert delivered[0].body.decode() == entries[0].body
    assert [e.dlq_id for e in qstash.client.dlq.list().messages] == [entries[2].dlq_id]
    assert qstash.client.dlq.delete_many([entries[2].dlq_id, "dlq_missing"]) == 1
    assert qstash.client.dlq.list().messages == []
    assert api_error(lambda: qstash.client.dlq.get(entries[1].dlq_id))[0] == 404


def test_489_with_non_retryable_header_fails_at_once(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/reject", Reply(status=489, headers={"Upstash-NonRetryable-Error": "true"}))
    qstash.client.message.publish_json(url=receiver.url("/reject"), body=1, retries=5)

    (entry,) = wait_until(lambda: qstash.client.dlq.list().messages, what="a DLQ entry")
    assert entry.response_status == 489
    assert len(receiver.deliveries("/reject")) == 1


def test_489_without_the_header_is_retried_like_any_error(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/plain-489", Reply(status=489), Reply(status=200))
    qstash.client.message.publish_json(url=receiver.url("/plain-489"), body=1)

    deliveries = receiver.wait_for("/plain-489", 2)
    assert [d.retried for d in deliveries] == [0, 1]


def test_retry_after_overrides_the_backoff(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    # 250 s at 0.001 is 250 ms, where the default first backoff would be 12 ms.
    receiver.script("/busy", Reply(status=429, headers={"Retry-After": "250"}), Reply())
    qstash.client.message.publish_json(url=receiver.url("/busy"), body=1)

    (gap,) = _gaps(receiver.wait_for("/busy", 2))
    assert 0.24 <= gap < 2.0


def test_retry_delay_expression_sets_the_wait_in_milliseconds(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    # 200000 ms * (retried + 1) at 0.001: 200 ms, then 400 ms.
    receiver.script("/expr", Reply(status=503))
    qstash.client.message.publish_json(
        url=receiver.url("/expr"), body=1, retries=2, retry_delay="200000 * (retried + 1)"
    )

    first_gap, second_gap = _gaps(receiver.wait_for("/expr", 3))
    # The default backoff would wait ~12 ms, then ~148 ms.
    assert 0.19 <= first_gap < 2.0
    assert 0.39 <= second_gap < 2.0


def test_success_callback_is_signed_and_describes_the_attempt(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/job", Reply(status=201, body=b"created"))
    published = qstash.client.message.publish_json(
        url=receiver.url("/job"),
        body={"job": 1},
        callback=receiver.url("/callback"),
        callback_headers={"X-Callback-Tag": "t1"},
    )

    (callback,) = receiver.wait_for("/callback", 1)
    sent = json.loads(callback.body)
    assert callback.headers["X-Callback-Tag"] == "t1"
    assert callback.headers["Content-Type"] == "application/json"
    assert sent["status"] == 201
    assert base64.b64decode(sent["body"]) == b"created"
    assert sent["sourceMessageId"] == single_id(published)
    assert sent["url"] == receiver.url("/job")
    assert sent["method"] == "POST"
    assert json.loads(base64.b64decode(sent["sourceBody"])) == {"job": 1}
    assert sent["retried"] == 0
    assert sent["maxRetries"] == 3
    assert sent["sourceHeader"]["Content-Type"] == ["application/json"]
    assert "dlqId" not in sent


def test_failure_callback_gets_the_dlq_id_once_retries_are_exhausted(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/broken", Reply(status=500, body=b"nope"))
    qstash.client.message.publish_json(
        url=receiver.url("/broken"),
        body={"job": 2},
        retries=1,
        failure_callback=receiver.url("/failed"),
    )

    (failure,) = receiver.wait_for("/failed", 1)
    sent = json.loads(failure.body)
    (entry,) = qstash.client.dlq.list().messages
    assert sent["dlqId"] == entry.dlq_id
    assert sent["status"] == 500
    assert base64.b64decode(sent["body"]) == b"nope"
    assert sent["retried"] == 1
    assert sent["maxRetries"] == 1
    assert len(receiver.deliveries("/broken")) == 2
