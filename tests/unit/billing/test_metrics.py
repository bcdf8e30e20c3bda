"""Billing's counters: one Redis hash, read back whole; counting never fails what it counts."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, cast

import pytest

from chalicelib.billing.metrics import (
    COUNTERS_KEY,
    BillingMetrics,
    MetricsUnavailableError,
    RedisCounterStore,
    count_event,
    count_fallback,
    read_metrics,
)
from tests.unit.billing.fakes import FakeHashRedis, InMemoryCounterStore

if TYPE_CHECKING:
    from upstash_redis import Redis


def _store(redis: FakeHashRedis) -> RedisCounterStore:
    return RedisCounterStore(cast("Redis", redis))


def _emf(captured: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def test_no_counts_read_as_zeros_with_no_fallback_rate() -> None:
    metrics = read_metrics(InMemoryCounterStore())

    assert metrics.model_dump(mode="json") == {
        "queued": 0,
        "sent": 0,
        "duplicates": 0,
        "dead": 0,
        "fallbacks": {"disabled": 0, "not_configured": 0, "publish_failed": 0},
        "fallbackTotal": 0,
        "fallbackRate": None,
    }


def test_the_fallback_rate_is_fallbacks_over_queued_plus_fallbacks() -> None:
    store = InMemoryCounterStore()
    for _ in range(3):
        count_event(store, "queued", "invoice")
    count_fallback(store, "publish_failed")
    for _ in range(4):
        count_event(store, "sent", "invoice")
    count_event(store, "duplicate", "reminder")
    count_event(store, "dead", "reminder")

    metrics = read_metrics(store)

    assert (metrics.queued, metrics.sent, metrics.duplicates, metrics.dead) == (3, 4, 1, 1)
    assert metrics.fallbacks["publish_failed"] == 1
    assert metrics.fallback_total == 1
    assert metrics.fallback_rate == pytest.approx(0.25)


def test_each_event_is_also_a_cloudwatch_metric_with_its_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    count_event(InMemoryCounterStore(), "sent", "reminder")

    [document] = _emf(capsys.readouterr().out)
    assert document["BillingSent"] == [1.0]
    assert document["kind"] == "reminder"


def test_a_fallback_is_only_counted_in_redis_because_dispatch_emitted_its_metric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = InMemoryCounterStore()

    count_fallback(store, "disabled")

    assert store.counts == {"fallback:disabled": 1}
    assert _emf(capsys.readouterr().out) == []


def test_the_redis_store_counts_in_one_hash_and_reads_it_back() -> None:
    redis = FakeHashRedis()
    store = _store(redis)

    store.increment("sent")
    store.increment("sent")
    store.increment("fallback:disabled")

    assert redis.hashes == {COUNTERS_KEY: {"sent": 2, "fallback:disabled": 1}}
    assert store.read() == {"sent": 2, "fallback:disabled": 1}
    assert BillingMetrics.from_counters(store.read()).fallbacks["disabled"] == 1


def test_a_redis_error_while_counting_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store(FakeHashRedis(broken=True))

    with caplog.at_level(logging.WARNING):
        store.increment("sent")

    assert "billing counter not incremented" in caplog.text


def test_a_redis_error_while_reading_is_a_metrics_unavailable_error() -> None:
    with pytest.raises(MetricsUnavailableError, match="ConnectionError"):
        read_metrics(_store(FakeHashRedis(broken=True)))
