"""The checkout flow on fakes: acceptance, the decision, what is published, the email, audit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from itertools import count
from typing import Any

import pytest

from chalicelib.checkout.models import CheckoutRequest, Order, Product
from chalicelib.checkout.service import (
    NotQueuedError,
    RunOnce,
    accept_checkout,
    place_order,
    record_audit,
    send_order_email,
)
from chalicelib.checkout.store import UnstorableOrderError
from chalicelib.events.consumers import EventConsumers, PermanentEventError, consume_delivery
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import AuditLog, CheckoutCommand, EmailNotification
from chalicelib.events.publishing import EventBusNotConfiguredError
from chalicelib.mail.sender import MailSendError
from chalicelib.queue.idempotency import run_once
from chalicelib.queue.publisher import PublishFailedError
from tests.fakes.idempotency_cache import in_memory_persistence
from tests.fakes.mailer import RecordingMailer
from tests.fakes.order_store import InMemoryOrderStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
THRESHOLD = 5


class RecordingBus:
    """Records every batch published, or fails the next `fail_next` calls."""

    def __init__(self, fail_next: int = 0) -> None:
        self.batches: list[list[EventEnvelope]] = []
        self.fail_next = fail_next

    def __call__(self, events: Sequence[EventEnvelope]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise PublishFailedError("ConnectError: QStash is down")
        self.batches.append(list(events))

    @property
    def events(self) -> list[EventEnvelope]:
        return [event for batch in self.batches for event in batch]


class RecordingSender:
    """Records every command sent; raises `error` instead when set."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[tuple[CheckoutCommand, str]] = []
        self.error = error

    def __call__(self, command: CheckoutCommand, correlation_id: str) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((command, correlation_id))


def _ids() -> Any:
    numbers = count(1)
    return lambda: f"{next(numbers):032x}"


def _request(*items: tuple[str, int, int]) -> CheckoutRequest:
    return CheckoutRequest.model_validate(
        {
            "customer": {"customerId": "c-1", "email": "ada@example.com", "name": "Ada"},
            "items": [
                {"productId": product, "quantity": quantity, "price": price}
                for product, quantity, price in items
            ],
            "paymentId": "pay-1",
        }
    )


@pytest.fixture
def store() -> InMemoryOrderStore:
    store = InMemoryOrderStore()
    store.put_product(Product(product_id="beans", name="Beans", price=1000, stock=10))
    store.put_product(Product(product_id="kettle", name="Kettle", price=5000, stock=2))
    return store


def _accept(store: InMemoryOrderStore, request: CheckoutRequest) -> tuple[Order, CheckoutCommand]:
    sender = RecordingSender()
    order = accept_checkout(
        request, store=store, send=sender, correlation_id="corr-1", new_id=_ids(), now=lambda: NOW
    )
    [(command, correlation_id)] = sender.sent
    assert correlation_id == "corr-1"
    return order, command


def _command_event(command: CheckoutCommand) -> EventEnvelope:
    return new_event("command.checkout", command, source="api", correlation_id="corr-1")


def _place(store: InMemoryOrderStore, command: CheckoutCommand, bus: RecordingBus) -> Any:
    return place_order(
        command,
        _command_event(command),
        store=store,
        publish=bus,
        low_stock_threshold=THRESHOLD,
        now=lambda: NOW,
    )


def test_accepting_records_a_pending_order_and_sends_its_command(
    store: InMemoryOrderStore,
) -> None:
    order, command = _accept(store, _request(("beans", 2, 1000), ("kettle", 1, 5000)))
    assert command.order_id == order.order_id
    assert (order.status, order.total, order.correlation_id) == ("pending", 7000, "corr-1")
    assert store.get(order.order_id) == order
    assert [item.product_id for item in command.items] == ["beans", "kettle"]


@pytest.mark.parametrize(
    "error", [PublishFailedError("down"), EventBusNotConfiguredError("no token")]
)
def test_a_command_not_queued_withdraws_the_order_so_it_is_never_placed(
    store: InMemoryOrderStore, error: Exception
) -> None:
    with pytest.raises(NotQueuedError):
        accept_checkout(
            _request(("beans", 2, 1000)),
            store=store,
            send=RecordingSender(error),
            correlation_id="corr-1",
            new_id=lambda: "a" * 32,
        )
    assert store.get("a" * 32) is None
    # Had QStash taken the command after all, its delivery changes nothing.
    command = _request(("beans", 2, 1000)).command("a" * 32)
    bus = RecordingBus()
    assert _place(store, command, bus) == {"orderId": "a" * 32, "status": "withdrawn"}
    assert bus.batches == []
    assert store.get_product("beans") == Product(
        product_id="beans", name="Beans", price=1000, stock=10
    )


def test_a_command_decided_before_the_failed_publish_returned_keeps_its_order(
    store: InMemoryOrderStore,
) -> None:
    """QStash took the command and it was consumed, but the publish call still failed."""

    def send(command: CheckoutCommand, correlation_id: str) -> None:
        _place(store, command, RecordingBus())
        raise PublishFailedError("ReadTimeout")

    order = accept_checkout(
        _request(("beans", 1, 1000)), store=store, send=send, correlation_id="c", new_id=_ids()
    )
    assert order.status == "confirmed"
    assert store.get(order.order_id) == order


def test_placing_decrements_stock_once_and_publishes_one_batch(
    store: InMemoryOrderStore,
) -> None:
    order, command = _accept(store, _request(("beans", 3, 1000), ("kettle", 1, 5000)))
    bus = RecordingBus()
    assert _place(store, command, bus) == {"orderId": order.order_id, "status": "confirmed"}
    placed = store.get(order.order_id)
    assert placed is not None
    assert (placed.status, placed.decided_at, placed.reason) == ("confirmed", NOW, None)
    assert [p.stock for p in (store.get_product("beans"), store.get_product("kettle")) if p] == [
        7,
        1,
    ]
    [batch] = bus.batches
    oid = order.order_id
    assert [(e.event_type, e.event_id) for e in batch] == [
        ("order.created", f"{oid}.created"),
        ("notification.email", f"{oid}.email"),
        ("inventory.stock.updated", f"{oid}.stock.1"),
        ("inventory.stock.updated", f"{oid}.stock.2"),
        ("inventory.low_stock", f"{oid}.low-stock.2"),
    ]
    assert {e.correlation_id for e in batch} == {"corr-1"}
    assert batch[0].payload["total"] == 8000
    assert batch[1].payload["template"] == "order_confirmation"
    assert batch[1].payload["to"] == "ada@example.com"
    assert [e.payload for e in batch[2:]] == [
        {"productId": "beans", "delta": -3, "stock": 7, "orderId": oid},
        {"productId": "kettle", "delta": -1, "stock": 1, "orderId": oid},
        {"productId": "kettle", "stock": 1, "threshold": THRESHOLD},
    ]


def test_a_shortage_rejects_the_order_naming_the_products_and_touches_no_stock(
    store: InMemoryOrderStore,
) -> None:
    order, command = _accept(
        store, _request(("beans", 1, 1000), ("kettle", 3, 5000), ("teapot", 1, 900))
    )
    bus = RecordingBus()
    assert _place(store, command, bus)["status"] == "rejected"
    rejected = store.get(order.order_id)
    assert rejected is not None
    assert rejected.status == "rejected"
    assert rejected.reason == ("insufficient stock for kettle (2 in stock), teapot (not sold here)")
    assert [p.stock for p in (store.get_product("beans"), store.get_product("kettle")) if p] == [
        10,
        2,
    ]
    [[email]] = bus.batches
    assert (email.event_type, email.event_id) == ("notification.email", f"{order.order_id}.email")
    assert email.payload["template"] == "order_rejected"
    assert email.payload["data"]["reason"] == rejected.reason


def test_a_redelivery_after_a_crash_before_publishing_decrements_once_and_republishes(
    store: InMemoryOrderStore,
) -> None:
    _, command = _accept(store, _request(("beans", 4, 1000)))
    bus = RecordingBus(fail_next=1)
    with pytest.raises(PublishFailedError):
        _place(store, command, bus)
    _place(store, command, bus)
    _place(store, command, bus)  # and a plain duplicate
    stock = store.get_product("beans")
    assert stock is not None
    assert stock.stock == 6
    assert store.calls["place"] == 1
    first, second = bus.batches
    assert [e.event_id for e in first] == [e.event_id for e in second]


def test_two_lines_of_one_product_are_one_line_of_their_sum() -> None:
    command = _request(("beans", 1, 1000), ("kettle", 1, 5000), ("beans", 2, 1000)).command("x")
    assert [(i.product_id, i.quantity) for i in command.items] == [("beans", 3), ("kettle", 1)]


def _once() -> RunOnce:
    """`run_once` over a fresh in-memory idempotency store, as the consumer binds it."""
    return partial(run_once, persistence=in_memory_persistence())


def _email_event(notification: EmailNotification) -> EventEnvelope:
    return new_event(
        "notification.email",
        notification,
        source="checkout",
        correlation_id="corr-1",
        event_id="0123.email",
    )


def _notification(bus: RecordingBus) -> EmailNotification:
    email = next(e for e in bus.events if e.event_type == "notification.email")
    return EmailNotification.model_validate(email.payload)


def test_the_confirmation_is_sent_the_order_marked_emailed_and_audited(
    store: InMemoryOrderStore,
) -> None:
    order, command = _accept(store, _request(("beans", 2, 1250)))
    bus = RecordingBus()
    _place(store, command, bus)
    mailer, audit_bus = RecordingMailer(), RecordingBus()
    notification = _notification(bus)
    send_order_email(
        notification,
        _email_event(notification),
        store=store,
        mailer=mailer,
        publish=audit_bus,
        once=_once(),
        now=lambda: NOW,
    )
    [email] = mailer.sent
    assert email.to == ("ada@example.com",)
    assert email.message_id == "0123.email"
    assert order.order_id in email.subject
    assert order.order_id in email.text
    assert "2 x beans at 12.50 USD = 25.00 USD" in email.text
    assert "Total: 25.00 USD" in email.text
    emailed = store.get(order.order_id)
    assert emailed is not None
    assert (emailed.status, emailed.emailed_at) == ("emailed", NOW)
    [[audit]] = audit_bus.batches
    assert (audit.event_type, audit.event_id, audit.correlation_id) == (
        "audit.log",
        "0123.email.audit",
        "corr-1",
    )
    assert audit.payload["entityId"] == order.order_id


def test_the_rejection_email_gives_the_reason_and_the_order_stays_rejected(
    store: InMemoryOrderStore,
) -> None:
    order, command = _accept(store, _request(("kettle", 9, 5000)))
    bus = RecordingBus()
    _place(store, command, bus)
    mailer = RecordingMailer()
    notification = _notification(bus)
    send_order_email(
        notification,
        _email_event(notification),
        store=store,
        mailer=mailer,
        publish=RecordingBus(),
        once=_once(),
        now=lambda: NOW,
    )
    [email] = mailer.sent
    assert "could not be placed" in email.subject
    assert "Reason: insufficient stock for kettle (2 in stock)" in email.text
    rejected = store.get(order.order_id)
    assert rejected is not None
    assert (rejected.status, rejected.emailed_at) == ("rejected", NOW)


def test_a_refused_email_marks_nothing_and_publishes_nothing(store: InMemoryOrderStore) -> None:
    order, command = _accept(store, _request(("beans", 1, 1000)))
    bus = RecordingBus()
    _place(store, command, bus)
    audit_bus = RecordingBus()
    notification = _notification(bus)
    with pytest.raises(MailSendError):
        send_order_email(
            notification,
            _email_event(notification),
            store=store,
            mailer=RecordingMailer(fail_next=1),
            publish=audit_bus,
            once=_once(),
        )
    placed = store.get(order.order_id)
    assert placed is not None
    assert placed.status == "confirmed"
    assert audit_bus.batches == []


class FlakyMarkStore(InMemoryOrderStore):
    """Fails the next `fail_next` `mark_emailed` calls, as a DynamoDB blip would."""

    def __init__(self, fail_next: int) -> None:
        super().__init__()
        self.fail_next = fail_next

    def mark_emailed(self, order_id: str, *, now: datetime) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("DynamoDB is unreachable")
        return super().mark_emailed(order_id, now=now)


def _placed_notification(store: InMemoryOrderStore) -> tuple[Order, EmailNotification]:
    store.put_product(Product(product_id="beans", name="Beans", price=1000, stock=10))
    order, command = _accept(store, _request(("beans", 1, 1000)))
    bus = RecordingBus()
    _place(store, command, bus)
    return order, _notification(bus)


def test_a_retry_after_the_audit_publish_failed_does_not_email_again() -> None:
    store, mailer, audit_bus, once = (
        InMemoryOrderStore(),
        RecordingMailer(),
        RecordingBus(1),
        _once(),
    )
    order, notification = _placed_notification(store)
    event = _email_event(notification)
    deliver = partial(
        send_order_email, notification, event, store=store, mailer=mailer, publish=audit_bus
    )
    with pytest.raises(PublishFailedError):
        deliver(once=once)
    deliver(once=once)  # QStash's retry of the same event
    assert [email.message_id for email in mailer.sent] == ["0123.email"]
    assert [audit.event_id for audit in audit_bus.events] == ["0123.email.audit"]
    emailed = store.get(order.order_id)
    assert emailed is not None
    assert emailed.status == "emailed"


def test_a_retry_after_noting_the_email_failed_does_not_email_again() -> None:
    store, mailer, audit_bus, once = FlakyMarkStore(1), RecordingMailer(), RecordingBus(), _once()
    order, notification = _placed_notification(store)
    event = _email_event(notification)
    for attempt in range(2):
        try:
            send_order_email(
                notification,
                event,
                store=store,
                mailer=mailer,
                publish=audit_bus,
                once=once,
                now=lambda: NOW,
            )
        except ConnectionError:
            assert attempt == 0
    assert len(mailer.sent) == 1
    emailed = store.get(order.order_id)
    assert emailed is not None
    assert (emailed.status, emailed.emailed_at) == ("emailed", NOW)
    assert len(audit_bus.events) == 1


def test_a_refused_email_is_sent_by_the_retry() -> None:
    store, mailer, once = InMemoryOrderStore(), RecordingMailer(fail_next=1), _once()
    _, notification = _placed_notification(store)
    event = _email_event(notification)
    deliver = partial(
        send_order_email, notification, event, store=store, mailer=mailer, publish=RecordingBus()
    )
    with pytest.raises(MailSendError):
        deliver(once=once)
    deliver(once=once)
    assert len(mailer.sent) == 1


def test_deliveries_of_one_notification_email_once_though_the_first_failed_after_sending() -> None:
    """Through the consumer: the event's own run_once is undone by the failure, the send's not."""
    store, mailer, audit_bus = FlakyMarkStore(1), RecordingMailer(), RecordingBus()
    persistence = in_memory_persistence()  # one Redis holds both keys, as in production
    _, notification = _placed_notification(store)
    registry = EventConsumers()
    registry.on("notification.email")(
        partial(
            send_order_email,
            store=store,
            mailer=mailer,
            publish=audit_bus,
            once=partial(run_once, persistence=persistence),
        )
    )
    body = json.dumps(_email_event(notification).wire()).encode()
    outcomes = [
        consume_delivery("notifications", body, registry=registry, persistence=persistence)
        for _ in range(3)
    ]
    assert [outcome.status_code for outcome in outcomes] == [500, 200, 200]
    assert [outcome.body.get("duplicate") for outcome in outcomes[1:]] == [False, True]
    assert len(mailer.sent) == 1
    assert len(audit_bus.events) == 1


class UnstorableStore(InMemoryOrderStore):
    """Refuses every decision as DynamoDB refuses a value it cannot hold."""

    def place(self, order: Order) -> list[Product]:
        raise UnstorableOrderError(order.order_id, "number overflow")

    def reject(self, order: Order) -> None:
        raise UnstorableOrderError(order.order_id, "number overflow")


def test_an_order_the_database_can_never_store_is_a_permanent_failure() -> None:
    store = UnstorableStore()
    _, command = _accept(store, _request(("beans", 1, 1000)))
    bus = RecordingBus()
    with pytest.raises(PermanentEventError, match="cannot be stored"):
        _place(store, command, bus)
    assert bus.batches == []


def test_an_audit_event_is_kept_once_under_its_event_id(store: InMemoryOrderStore) -> None:
    entry = AuditLog(action="email.sent", entity="order", entity_id="o-1", details={"n": 1})
    event = new_event("audit.log", entry, source="notifications", correlation_id="corr-1")
    record_audit(entry, event, store=store, now=lambda: NOW)
    record_audit(entry, event, store=store, now=lambda: NOW)
    [record] = store.audit_records("order", "o-1")
    assert (record.event_id, record.action, record.details) == (
        event.event_id,
        "email.sent",
        {"n": 1},
    )
    assert record.correlation_id == "corr-1"
