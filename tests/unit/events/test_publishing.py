"""Publishing: each event to its topic's route, deduplicated by its id, with a failure callback;
several events in one batch call."""

from __future__ import annotations

import pytest

from chalicelib.events.envelope import new_event
from chalicelib.events.payloads import (
    AuditLog,
    CheckoutCommand,
    CheckoutItem,
    Customer,
    LowStock,
    StockUpdated,
)
from chalicelib.events.publishing import (
    EventBus,
    EventBusNotConfiguredError,
    WrongTopicError,
    event_bus,
    publish_audit_log,
    publish_checkout_command,
    publish_event,
    publish_events,
)
from chalicelib.queue.publisher import PublishFailedError
from chalicelib.settings import Settings
from tests.unit.events.fakes import RecordingPublisher

BASE = "https://app.example"


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def bus(publisher: RecordingPublisher) -> EventBus:
    return EventBus(publisher, BASE + "/")


def _audit(entity_id: str = "o1") -> AuditLog:
    return AuditLog(action="create", entity="order", entity_id=entity_id)


def test_an_event_goes_to_its_topic_route_with_its_id_and_a_failure_callback(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    event = new_event("audit.log", _audit(), source="test")

    receipt = publish_event("analytics", event, delay=30, retries=2, bus=bus)

    (message,) = publisher.messages
    assert receipt.message_id == "msg_1_0"
    assert message.url == f"{BASE}/api/webhooks/analytics"
    assert message.body == event.wire()
    assert message.deduplication_id == event.event_id
    assert message.failure_callback == f"{BASE}/api/events/failure-callback"
    assert (message.delay_seconds, message.retries) == (30, 2)


def test_an_event_on_the_wrong_topic_is_not_published(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    with pytest.raises(WrongTopicError):
        publish_event("orders", new_event("audit.log", _audit(), source="t"), bus=bus)
    assert publisher.calls == []


def test_several_events_are_one_batch_call_each_to_its_own_route(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    events = [
        new_event(
            "inventory.stock.updated", StockUpdated(product_id="p", delta=-1, stock=4), source="t"
        ),
        new_event(
            "inventory.low_stock", LowStock(product_id="p", stock=4, threshold=5), source="t"
        ),
        new_event("audit.log", _audit(), source="t"),
    ]

    receipts = publish_events(events, bus=bus)

    assert len(publisher.calls) == 1
    assert [m.url.rsplit("/", 1)[1] for m in publisher.messages] == [
        "inventory",
        "inventory",
        "analytics",
    ]
    assert [m.deduplication_id for m in publisher.messages] == [e.event_id for e in events]
    assert len(receipts) == 3
    assert publish_events([], bus=bus) == []
    assert len(publisher.calls) == 1


def test_a_typed_publisher_returns_the_envelope_it_published(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    command = CheckoutCommand(
        order_id="o1",
        customer=Customer(customer_id="c", email="c@example.com", name="C"),
        items=[CheckoutItem(product_id="p", quantity=1, price=5)],
        payment_id="pay",
    )

    event = publish_checkout_command(command, correlation_id="req-1", event_id="o1.cmd", bus=bus)

    assert (event.event_type, event.event_id, event.correlation_id) == (
        "command.checkout",
        "o1.cmd",
        "req-1",
    )
    assert event.source == "api"
    assert publisher.messages[0].url == f"{BASE}/api/webhooks/commands"
    assert publisher.messages[0].body["payload"]["orderId"] == "o1"


def test_a_typed_publisher_refuses_another_type_of_payload(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    with pytest.raises(TypeError):
        publish_audit_log(LowStock(product_id="p", stock=1, threshold=5), bus=bus)  # type: ignore[arg-type]
    assert publisher.calls == []


def test_an_unreachable_qstash_is_a_publish_failure(
    bus: EventBus, publisher: RecordingPublisher
) -> None:
    publisher.down = True
    with pytest.raises(PublishFailedError):
        publish_audit_log(_audit(), bus=bus)


@pytest.mark.parametrize("env", [{"PUBLIC_BASE_URL": BASE}, {"QSTASH_TOKEN": "token"}])
def test_the_bus_needs_qstash_and_a_public_url(env: dict[str, str]) -> None:
    with pytest.raises(EventBusNotConfiguredError):
        event_bus(Settings.model_validate(env))
