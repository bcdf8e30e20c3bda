"""The chaos knobs: injected failures, duplicate deliveries and added latency."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from qstash.log import LogState

from tests.integration.devstack.qstash_fixtures import (
    QStashHarness,
    RecordingReceiver,
    single_id,
)


def test_fail_rate_fails_attempts_before_the_destination_and_retries_them(
    qstash_factory: Callable[..., QStashHarness], receiver: RecordingReceiver
) -> None:
    qstash = qstash_factory(fail_rate=0.5, seed=7)
    # A flat 1 s (1 ms scaled) between attempts: the default backoff grows to hours.
    ids = {
        single_id(
            qstash.client.message.publish_json(
                url=receiver.url("/chaos"), body=n, retries=20, retry_delay="1000"
            )
        )
        for n in range(20)
    }

    deliveries = receiver.wait_for("/chaos", 20)
    # An injected failure never reaches the receiver, so each message arrives exactly once...
    assert Counter(d.message_id for d in deliveries) == dict.fromkeys(ids, 1)
    # ...but after retries: some arrive with Upstash-Retried > 0, and the log shows the errors.
    assert any(d.retried > 0 for d in deliveries)
    errors = qstash.client.log.list(filter={"state": LogState.ERROR}, count=1000).logs
    assert errors
    assert all("chaos" in (log.error or "") for log in errors)
    assert qstash.client.dlq.list().messages == []


def test_duplicate_rate_delivers_the_same_message_id_more_than_once(
    qstash_factory: Callable[..., QStashHarness], receiver: RecordingReceiver
) -> None:
    qstash = qstash_factory(duplicate_rate=1.0, seed=3)
    ids = [
        single_id(qstash.client.message.publish_json(url=receiver.url("/twice"), body=n))
        for n in range(10)
    ]

    deliveries = receiver.wait_for("/twice", 20)
    counts = Counter(d.message_id for d in deliveries)
    assert set(counts) == set(ids)
    assert all(count == 2 for count in counts.values())
    for message_id in ids:
        copies = [d for d in deliveries if d.message_id == message_id]
        assert copies[0].body == copies[1].body
        assert copies[0].retried == copies[1].retried == 0


def test_duplicate_copies_deliver_a_duplicated_message_that_many_extra_times(
    qstash_factory: Callable[..., QStashHarness], receiver: RecordingReceiver
) -> None:
    qstash = qstash_factory(duplicate_rate=1.0, duplicate_copies=2, seed=5)
    ids = [
        single_id(qstash.client.message.publish_json(url=receiver.url("/thrice"), body=n))
        for n in range(10)
    ]

    deliveries = receiver.wait_for("/thrice", 30)
    counts = Counter(d.message_id for d in deliveries)
    assert counts == dict.fromkeys(ids, 3)


def test_latency_delays_each_delivery_but_not_the_publisher(
    qstash_factory: Callable[..., QStashHarness], receiver: RecordingReceiver
) -> None:
    qstash = qstash_factory(latency=0.5)
    start = time.monotonic()
    message_id = single_id(qstash.client.message.publish_json(url=receiver.url("/slow"), body=1))
    publish_took = time.monotonic() - start

    (delivery,) = receiver.wait_for("/slow", 1)
    assert publish_took < 0.4
    assert delivery.started - start >= 0.5
    assert delivery.message_id == message_id


def test_the_same_seed_makes_the_same_failures(
    qstash_factory: Callable[..., QStashHarness], receiver: RecordingReceiver
) -> None:
    def retried_counts(path: str) -> list[int]:
        # One message at a time keeps the random draws in the same order on each run.
        qstash = qstash_factory(fail_rate=0.5, seed=11)
        for n in range(6):
            qstash.client.message.publish_json(
                url=receiver.url(path), body=n, retries=20, retry_delay="1000"
            )
            receiver.wait_for(path, n + 1)
        return [d.retried for d in receiver.deliveries(path)]

    first, second = retried_counts("/seed-1"), retried_counts("/seed-2")
    assert first == second
    assert any(first)
