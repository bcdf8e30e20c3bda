"""consume_delivery: every outcome a delivery can have, with a test registry and an in-memory
idempotency store."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from chalicelib.events.consumers import (
    EventConsumers,
    PermanentEventError,
    consume_delivery,
    consumers,
)
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import AuditLog, LowStock
from chalicelib.queue.outcome import NON_RETRYABLE_STATUS, DeliveryOutcome
from tests.fakes.idempotency_cache import in_memory_persistence


class Recorder:
    """A handler for `audit.log` that records its effects; `failures` raise first."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.effects: list[tuple[str, AuditLog]] = []
        self.failures = list(failures or [])

    def __call__(self, payload: AuditLog, event: EventEnvelope) -> dict[str, Any]:
        if self.failures:
            raise self.failures.pop(0)
        self.effects.append((event.event_id, payload))
        return {"recorded": len(self.effects)}


def _registry(handler: Recorder) -> EventConsumers:
    registry = EventConsumers()
    registry.on("audit.log")(handler)
    return registry


def _body(event_type: str = "audit.log", **payload: Any) -> bytes:
    fields = {"action": "create", "entity": "order", "entityId": "o1", **payload}
    event = new_event(event_type, AuditLog.model_validate(fields), source="test")
    return json.dumps(event.wire()).encode()


def test_an_event_runs_its_handler_once_and_a_second_delivery_is_a_duplicate() -> None:
    handler, persistence = Recorder(), in_memory_persistence()
    registry, body = _registry(handler), _body()

    first = consume_delivery("analytics", body, registry=registry, persistence=persistence)
    second = consume_delivery("analytics", body, registry=registry, persistence=persistence)

    assert (first.status_code, first.body["duplicate"]) == (200, False)
    assert (second.status_code, second.body["duplicate"]) == (200, True)
    assert len(handler.effects) == 1
    assert handler.effects[0][1].entity_id == "o1"


def test_a_transient_failure_is_retried_and_then_runs_once() -> None:
    handler = Recorder(failures=[RuntimeError("db down"), RuntimeError("db down")])
    registry, persistence, body = _registry(handler), in_memory_persistence(), _body()

    outcomes = [
        consume_delivery("analytics", body, registry=registry, persistence=persistence)
        for _ in range(4)
    ]

    assert [o.status_code for o in outcomes] == [500, 500, 200, 200]
    assert [o.body.get("duplicate") for o in outcomes[2:]] == [False, True]
    assert len(handler.effects) == 1


def test_a_permanent_failure_is_not_retried_and_leaves_the_event_runnable() -> None:
    handler = Recorder(failures=[PermanentEventError("no such order")])
    registry, persistence, body = _registry(handler), in_memory_persistence(), _body()

    poisoned = consume_delivery("analytics", body, registry=registry, persistence=persistence)
    # A replay after the cause was fixed: the effect never happened, so it runs now.
    replayed = consume_delivery("analytics", body, registry=registry, persistence=persistence)

    assert poisoned.status_code == NON_RETRYABLE_STATUS
    assert poisoned.headers["Upstash-NonRetryable-Error"] == "true"
    assert poisoned.body["error"] == "no such order"
    assert (replayed.status_code, replayed.body["duplicate"]) == (200, False)
    assert len(handler.effects) == 1


def test_a_delivery_while_another_is_running_is_asked_to_come_back() -> None:
    persistence, body = in_memory_persistence(), _body()
    started, release = threading.Event(), threading.Event()
    seen: list[DeliveryOutcome] = []
    registry = EventConsumers()

    @registry.on("audit.log")
    def slow(payload: AuditLog, event: EventEnvelope) -> None:
        started.set()
        release.wait(5)

    running = threading.Thread(
        target=lambda: seen.append(
            consume_delivery("analytics", body, registry=registry, persistence=persistence)
        )
    )
    running.start()
    assert started.wait(5)
    busy = consume_delivery("analytics", body, registry=registry, persistence=persistence)
    release.set()
    running.join(5)

    assert busy.status_code == 503
    assert int(busy.headers["Retry-After"]) >= 1
    assert seen[0].status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[" * 5000, "not JSON"),
        (b'{"eventId": "x"}', "invalid event"),
        (_body().replace(b'"audit.log"', b'"order.teleported"'), "unknown event type"),
        (_body().replace(b'"entityId"', b'"entityID"'), "invalid event"),
    ],
)
def test_a_body_that_can_never_be_consumed_is_rejected_permanently(
    body: bytes, reason: str
) -> None:
    handler = Recorder()
    outcome = consume_delivery(
        "analytics", body, registry=_registry(handler), persistence=in_memory_persistence()
    )
    assert outcome.status_code == NON_RETRYABLE_STATUS
    assert reason in outcome.body["error"]
    assert handler.effects == []


def test_an_event_delivered_to_another_topic_is_rejected() -> None:
    handler = Recorder()
    outcome = consume_delivery(
        "orders", _body(), registry=_registry(handler), persistence=in_memory_persistence()
    )
    assert outcome.status_code == NON_RETRYABLE_STATUS
    assert "not an event of topic orders" in outcome.body["error"]
    assert handler.effects == []


def test_an_event_nobody_consumes_is_acknowledged() -> None:
    event = new_event(
        "inventory.low_stock", LowStock(product_id="p", stock=1, threshold=5), source="t"
    )
    outcome = consume_delivery(
        "inventory",
        json.dumps(event.wire()).encode(),
        registry=EventConsumers(),
        persistence=in_memory_persistence(),
    )
    assert outcome.status_code == 200
    assert outcome.body["handled"] is False


def test_a_type_gets_one_handler_and_only_catalogue_types_get_any() -> None:
    registry = _registry(Recorder())
    with pytest.raises(ValueError, match="already has a handler"):
        registry.on("audit.log")(Recorder())
    with pytest.raises(ValueError, match="unknown event type"):
        registry.on("order.teleported")


def test_the_default_registry_is_a_registry() -> None:
    assert isinstance(consumers, EventConsumers)
