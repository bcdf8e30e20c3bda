"""The envelope and the catalogue: the shape every event has, and where each type goes."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from chalicelib.events.catalogue import (
    CATALOGUE,
    TOPICS,
    Topic,
    UnknownEventTypeError,
    event_kind,
    topic_of,
    webhook_path,
)
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import AuditLog, CheckoutCommand, CheckoutItem, Customer

CUSTOMER = Customer(customer_id="c1", email="ada@example.com", name="Ada")


def test_a_new_event_wraps_its_payload_in_camel_case_with_a_fresh_id() -> None:
    payload = AuditLog(action="create", entity="order", entity_id="o1", details={"k": 1})
    first = new_event("audit.log", payload, source="test", correlation_id="corr-1")
    second = new_event("audit.log", payload, source="test")

    wire = first.wire()
    assert set(wire) == {
        "eventId",
        "eventType",
        "timestamp",
        "version",
        "source",
        "correlationId",
        "payload",
    }
    assert wire["payload"] == {
        "action": "create",
        "entity": "order",
        "entityId": "o1",
        "details": {"k": 1},
    }
    assert (wire["version"], wire["correlationId"]) == (1, "corr-1")
    assert first.event_id != second.event_id
    # Without one, the event is its own correlation.
    assert second.correlation_id == second.event_id
    assert EventEnvelope.model_validate(wire) == first


def test_a_deterministic_event_id_is_kept() -> None:
    payload = AuditLog(action="a", entity="e", entity_id="1")
    assert new_event("audit.log", payload, source="s", event_id="order-1.created").event_id == (
        "order-1.created"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"eventId": ""},
        {"eventId": "has spaces"},
        {"unknown": 1},
        {"version": 0},
        {"timestamp": "yesterday"},
    ],
)
def test_a_malformed_envelope_is_refused(change: dict[str, object]) -> None:
    wire = new_event("audit.log", AuditLog(action="a", entity="e", entity_id="1"), source="s")
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate({**wire.wire(), **change})


def test_every_topic_has_events_and_a_route_and_every_type_one_topic() -> None:
    assert set(TOPICS) == set(get_args(Topic))
    assert {kind.topic for kind in CATALOGUE.values()} == set(TOPICS)
    assert topic_of("command.checkout") == "commands"
    assert topic_of("order.created") == "orders"
    assert topic_of("notification.email") == "notifications"
    assert topic_of("inventory.stock.updated") == topic_of("inventory.low_stock") == "inventory"
    assert topic_of("audit.log") == topic_of("deadletter.recorded") == "analytics"
    assert event_kind("command.checkout").payload is CheckoutCommand
    assert webhook_path("orders") == "/api/webhooks/orders"
    with pytest.raises(UnknownEventTypeError):
        event_kind("order.teleported")


def test_payloads_check_their_fields_and_refuse_extras() -> None:
    item = {"productId": "p1", "quantity": 2, "price": 250}
    command = CheckoutCommand.model_validate(
        {
            "orderId": "o1",
            "customer": CUSTOMER.model_dump(by_alias=True),
            "items": [item],
            "paymentId": "pay1",
        }
    )
    assert command.currency == "USD"
    assert command.items == [CheckoutItem(product_id="p1", quantity=2, price=250)]
    for bad in (
        {**item, "quantity": 0},
        {**item, "quantity": 1001},
        {**item, "price": -1},
        {**item, "colour": "red"},
    ):
        with pytest.raises(ValidationError):
            CheckoutItem.model_validate(bad)
    with pytest.raises(ValidationError):
        Customer(customer_id="c", email="not-an-email", name="x")
    with pytest.raises(ValidationError):
        CheckoutCommand(order_id="o", customer=CUSTOMER, items=[], payment_id="p")
