"""Publishing through the official SDK: what arrives at the destination, batches, delays,
deduplication, labels, message lookup and cancellation."""

from __future__ import annotations

import json
import time

from qstash.log import LogState
from qstash.message import BatchResponse, PublishResponse

from tests.integration.devstack.qstash_fixtures import (
    QStashHarness,
    RecordingReceiver,
    api_error,
    single_id,
    wait_until,
)


def test_delivery_carries_every_documented_header_and_the_body_unchanged(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    destination = receiver.url("/jobs?x=1&y=%20z&path=a%2Fb")
    published = qstash.client.message.publish_json(
        url=destination,
        body={"job": 7, "name": "é"},
        headers={"X-Tenant": "acme", "Upstash-Forward-Authorization": "Bearer abc"},
    )
    assert isinstance(published, PublishResponse)

    (delivery,) = receiver.wait_for("/jobs", 1)
    assert delivery.url == destination  # raw query, %20 and %2F survive the trip
    assert delivery.method == "POST"
    assert json.loads(delivery.body) == {"job": 7, "name": "é"}
    headers = delivery.headers
    assert headers["Upstash-Message-Id"] == published.message_id
    assert headers["Upstash-Retried"] == "0"
    assert headers["User-Agent"] == "Upstash-QStash"
    assert headers["Upstash-Caller-Ip"] == "127.0.0.1"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Tenant"] == "acme"
    assert headers["Authorization"] == "Bearer abc"
    assert "Upstash-Topic-Name" not in headers
    assert delivery.signature_error is None


def test_method_raw_body_and_missing_content_type_are_passed_through(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    qstash.client.message.publish(url=receiver.url("/raw"), body=b"\x00\x01 plain", method="PUT")

    (delivery,) = receiver.wait_for("/raw", 1)
    assert delivery.method == "PUT"
    assert delivery.body == b"\x00\x01 plain"
    assert "Content-Type" not in delivery.headers


def test_batch_publishes_to_urls_and_queues(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    results = qstash.client.message.batch_json(
        [
            {"url": receiver.url("/batch"), "body": {"n": 1}},
            {"url": receiver.url("/batch"), "body": {"n": 2}, "queue": "batch-queue"},
            {"url": receiver.url("/batch"), "body": {"n": 3}, "headers": {"X-N": "3"}},
        ]
    )

    assert len(results) == 3
    deliveries = receiver.wait_for("/batch", 3)
    assert sorted(json.loads(d.body)["n"] for d in deliveries) == [1, 2, 3]
    ids = {r.message_id for r in results if isinstance(r, BatchResponse)}
    assert {d.message_id for d in deliveries} == ids
    assert [d.headers.get("X-N") for d in deliveries if json.loads(d.body)["n"] == 3] == ["3"]
    assert qstash.client.queue.get("batch-queue").name == "batch-queue"


def test_delay_and_not_before_hold_the_message_for_the_scaled_time(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    start = time.monotonic()
    delayed = qstash.client.message.publish_json(url=receiver.url("/later"), body=1, delay="150s")
    pending = qstash.client.message.get(single_id(delayed))
    assert pending.not_before - pending.created_at >= 140  # 150 s at 0.001 → 150 ms
    qstash.client.message.publish_json(
        url=receiver.url("/not-before"), body=2, not_before=int(time.time()) + 200
    )

    (later,) = receiver.wait_for("/later", 1)
    (not_before,) = receiver.wait_for("/not-before", 1)
    assert later.started - start >= 0.14
    assert not_before.started - start >= 0.05  # 0-200 s at 0.001, from a whole-second timestamp


def test_deduplication_id_returns_the_existing_message_with_202(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    first = qstash.client.message.publish_json(
        url=receiver.url("/dedup"), body={"a": 1}, deduplication_id="order-42"
    )
    second = qstash.client.message.publish_json(
        url=receiver.url("/dedup"), body={"a": "different"}, deduplication_id="order-42"
    )
    status = qstash.status_of(
        "POST",
        f"/v2/publish/{receiver.url('/dedup')}",
        headers={"Upstash-Deduplication-Id": "order-42"},
        body="{}",
    )

    assert isinstance(first, PublishResponse)
    assert isinstance(second, PublishResponse)
    assert not first.deduplicated
    assert second.deduplicated
    assert second.message_id == first.message_id
    assert status == 202
    receiver.wait_for("/dedup", 1)
    time.sleep(0.05)  # a duplicate delivery would arrive within milliseconds
    assert len(receiver.deliveries("/dedup")) == 1


def test_content_based_deduplication_only_merges_identical_messages(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    publish = qstash.client.message.publish_json
    first = publish(url=receiver.url("/cbd"), body={"a": 1}, content_based_deduplication=True)
    same = publish(url=receiver.url("/cbd"), body={"a": 1}, content_based_deduplication=True)
    other = publish(url=receiver.url("/cbd"), body={"a": 2}, content_based_deduplication=True)

    assert isinstance(first, PublishResponse)
    assert isinstance(same, PublishResponse)
    assert isinstance(other, PublishResponse)
    assert same.deduplicated
    assert same.message_id == first.message_id
    assert not other.deduplicated
    assert other.message_id != first.message_id
    deliveries = receiver.wait_for("/cbd", 2)
    assert sorted(json.loads(d.body)["a"] for d in deliveries) == [1, 2]


def test_labels_are_stored_and_shown_in_messages_and_logs(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    message_id = single_id(
        qstash.client.message.publish_json(
            url=receiver.url("/labelled"), body=1, delay="60s", label="billing"
        )
    )

    assert qstash.client.message.get(message_id).label == "billing"
    receiver.wait_for("/labelled", 1)
    logs = wait_until(
        lambda: [
            log
            for log in qstash.client.log.list(filter={"label": "billing"}).logs
            if log.state is LogState.DELIVERED
        ],
        what="a DELIVERED log with the label",
    )
    assert logs[0].message_id == message_id
    assert logs[0].label == "billing"


def test_cancel_stops_a_waiting_message_and_is_logged(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    published = qstash.client.message.publish_json(url=receiver.url("/cancel"), body=1, delay="1h")
    message_id = single_id(published)
    assert qstash.client.message.get(message_id).url == receiver.url("/cancel")

    qstash.client.message.cancel(message_id)

    states = [log.state for log in qstash.client.log.list(filter={"message_id": message_id}).logs]
    assert states == [LogState.CANCELED, LogState.CANCEL_REQUESTED, LogState.CREATED]
    spec_logs = qstash.raw("GET", "/v2/logs", params={"messageId": message_id})["logs"]
    assert spec_logs[0]["state"] == "CANCELLED"
    status, error = api_error(lambda: qstash.client.message.get(message_id))
    assert status == 404
    assert "not found" in error["error"]
    assert receiver.deliveries("/cancel") == []


def test_bulk_cancel_cancels_the_listed_messages(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    ids = [
        single_id(qstash.client.message.publish_json(url=receiver.url("/bulk"), body=n, delay="1h"))
        for n in range(3)
    ]

    assert qstash.client.message.cancel_many(ids[:2]) == 2
    assert qstash.client.message.get(ids[2]).message_id == ids[2]
    assert qstash.client.message.cancel_all() == 1
    assert api_error(lambda: qstash.client.message.get(ids[2]))[0] == 404
