"""The checkout flow, on plain collaborators (a store, a publish function, a mailer, a clock).

The API accepts an order and queues `command.checkout`; the commands consumer decides it in one
transaction and publishes what followed; the notifications consumer emails the customer; the
analytics consumer keeps the audit trail. Every consumer step can run again after a crash or a
duplicate delivery without doing its effect twice: decisions are conditional, and events that
follow from one carry ids derived from the order, so QStash drops a re-published duplicate.
The email is the one effect that cannot be taken back, so its send runs once per notification
event under its own idempotency key: a retry after a later step failed does not send it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.checkout.models import AuditRecord, CheckoutRequest, Order, Product
from chalicelib.checkout.rendering import email_data, render_email
from chalicelib.checkout.store import (
    NotAcceptedError,
    OrderExistsError,
    OrderStore,
    OutOfStockError,
    UnstorableOrderError,
)
from chalicelib.events.consumers import PermanentEventError
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import (
    AuditLog,
    CheckoutCommand,
    EmailNotification,
    EventPayload,
    LowStock,
    OrderCreated,
    StockUpdated,
)
from chalicelib.events.publishing import EventBusNotConfiguredError
from chalicelib.mail.sender import Mailer
from chalicelib.observability import count_metric, logger
from chalicelib.queue.publisher import PublishFailedError

SOURCE = "checkout"
# Hands `command.checkout` for an order to the bus, under a correlation id.
SendCommand = Callable[[CheckoutCommand, str], object]
# Publishes events in one batch call.
PublishEvents = Callable[[Sequence[EventEnvelope]], object]
Clock = Callable[[], datetime]
# Runs an effect unless a call with the same key completed it (`run_once` with its persistence
# bound); raises `StillRunningError` while another call with the key is in progress.
RunOnce = Callable[[str, Callable[[], dict[str, Any] | None]], object]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def new_order_id() -> str:
    """A fresh order id (32 hex digits)."""
    return uuid.uuid4().hex


class NotQueuedError(Exception):
    """The checkout command could not be handed to the bus; the order was withdrawn."""

    def __init__(self, order_id: str, reason: str) -> None:
        super().__init__(reason)
        self.order_id = order_id


def accept_checkout(
    request: CheckoutRequest,
    *,
    store: OrderStore,
    send: SendCommand,
    correlation_id: str,
    new_id: Callable[[], str] = new_order_id,
    now: Clock = utc_now,
) -> Order:
    """Record the order as pending and queue its command; the pending (or decided) order.

    Raises `NotQueuedError` when the command could not be queued: the acceptance is withdrawn
    first, so the order can never be decided later (unless it was already, then it is returned).
    """
    command = request.command(new_id())
    order = Order.accepted(command, correlation_id=correlation_id, now=now())
    store.accept(order)
    try:
        send(command, correlation_id)
    except (PublishFailedError, EventBusNotConfiguredError) as exc:
        logger.warning("checkout command not queued", extra={"order_id": order.order_id})
        count_metric("CheckoutNotQueued")
        decided = store.withdraw(order.order_id)
        if decided is None:
            raise NotQueuedError(order.order_id, str(exc)) from exc
        return decided  # QStash took it after all, and the consumer was quicker
    return order


def _event(event_type: str, payload: EventPayload, order: Order, suffix: str) -> EventEnvelope:
    # The id depends only on the order: a re-publish after a crash is a QStash duplicate.
    return new_event(
        event_type,
        payload,
        source=SOURCE,
        correlation_id=order.correlation_id,
        event_id=f"{order.order_id}.{suffix}",
    )


def _notification(order: Order) -> EventEnvelope:
    template = "order_rejected" if order.status == "rejected" else "order_confirmation"
    payload = EmailNotification(
        order_id=order.order_id, to=order.customer.email, template=template, data=email_data(order)
    )
    return _event("notification.email", payload, order, "email")


def decision_events(
    order: Order, products: Sequence[Product], *, low_stock_threshold: int
) -> list[EventEnvelope]:
    """What follows a decided order: for a placed one `order.created`, the confirmation,
    the stock updates (and a `inventory.low_stock` per product at or below the threshold);
    for a rejected one only the rejection email."""
    if order.status == "rejected":
        return [_notification(order)]
    created = OrderCreated(
        order_id=order.order_id,
        customer=order.customer,
        items=order.items,
        total=order.total,
        currency=order.currency,
    )
    events = [_event("order.created", created, order, "created"), _notification(order)]
    stock = {product.product_id: product.stock for product in products}
    for number, line in enumerate(order.items, start=1):
        if line.product_id not in stock:
            continue
        update = StockUpdated(
            product_id=line.product_id,
            delta=-line.quantity,
            stock=stock[line.product_id],
            order_id=order.order_id,
        )
        events.append(_event("inventory.stock.updated", update, order, f"stock.{number}"))
        if stock[line.product_id] <= low_stock_threshold:
            low = LowStock(
                product_id=line.product_id,
                stock=stock[line.product_id],
                threshold=low_stock_threshold,
            )
            events.append(_event("inventory.low_stock", low, order, f"low-stock.{number}"))
    return events


def _decide(pending: Order, store: OrderStore, now: datetime) -> tuple[Order, list[Product]]:
    """Place the pending order, or reject it when stock is short; the order as decided."""
    placed = pending.model_copy(update={"status": "confirmed", "decided_at": now})
    try:
        return placed, store.place(placed)
    except OutOfStockError as short:
        rejected = pending.model_copy(
            update={"status": "rejected", "decided_at": now, "reason": short.reason()}
        )
        store.reject(rejected)
        count_metric("OrderRejected", reason="stock")
        return rejected, []


def place_order(
    command: CheckoutCommand,
    event: EventEnvelope,
    *,
    store: OrderStore,
    publish: PublishEvents,
    low_stock_threshold: int,
    now: Clock = utc_now,
) -> dict[str, object]:
    """The commands consumer: decide the accepted order once, then publish what followed.

    A delivery that finds the order decided (a duplicate, or a retry after a crash between the
    transaction and the publish) publishes the same events again, which QStash deduplicates.
    Raises `PermanentEventError` when the database can never store the order (it stays pending
    and the command is dead-lettered instead of retried).
    """
    log = {"order_id": command.order_id, "event_id": event.event_id}
    order = store.get(command.order_id)
    if order is None:
        # Withdrawn by the API because the command seemed not to be queued: nothing to do.
        logger.info("checkout command for an order not accepted", extra=log)
        return {"orderId": command.order_id, "status": "withdrawn"}
    products: list[Product] | None = None
    if order.status == "pending":
        try:
            order, products = _decide(order, store, now())
        except UnstorableOrderError as exc:
            raise PermanentEventError(str(exc)) from exc
        except (OrderExistsError, NotAcceptedError):
            # A concurrent delivery decided it, or the API withdrew it, in the meantime.
            current = store.get(command.order_id)
            if current is None or current.status == "pending":
                return {"orderId": command.order_id, "status": "withdrawn"}
            order = current
    if products is None:
        found = (store.get_product(line.product_id) for line in order.items)
        products = [product for product in found if product is not None]
    publish(decision_events(order, products, low_stock_threshold=low_stock_threshold))
    logger.info("order decided", extra={**log, "status": order.status})
    return {"orderId": order.order_id, "status": order.status}


def send_order_email(
    notification: EmailNotification,
    event: EventEnvelope,
    *,
    store: OrderStore,
    mailer: Mailer,
    publish: PublishEvents,
    once: RunOnce,
    now: Clock = utc_now,
) -> dict[str, object]:
    """The notifications consumer: send the email, note it on the order, publish `audit.log`.

    The send runs through `once` keyed by the event id, so a retry after the note or the
    publish failed repeats those (both idempotent) but not the email. A send that failed leaves
    no record and is retried; one cut off mid-way holds its key, so that retries answer "still
    running" instead of risking a second email (at most one email per notification event).
    The Message-ID comes from the event id, so a copy would still be recognisable.
    """
    email = render_email(notification, message_id=event.event_id)

    def send() -> dict[str, Any]:
        mailer.send(email)
        return {"messageId": email.message_id}

    once(f"email:{event.event_id}", send)
    if notification.order_id is not None:
        store.mark_emailed(notification.order_id, now=now())
    audit = AuditLog(
        action="email.sent",
        entity="order" if notification.order_id is not None else "email",
        entity_id=notification.order_id or event.event_id,
        details={"template": notification.template, "notificationEventId": event.event_id},
    )
    publish(
        [
            new_event(
                "audit.log",
                audit,
                source="notifications",
                correlation_id=event.correlation_id,
                event_id=f"{event.event_id}.audit",
            )
        ]
    )
    return {"orderId": notification.order_id, "template": notification.template}


def record_audit(
    entry: AuditLog, event: EventEnvelope, *, store: OrderStore, now: Clock = utc_now
) -> dict[str, object]:
    """The analytics consumer: keep the audit record under its event id."""
    store.record_audit(
        AuditRecord(
            event_id=event.event_id,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            details=entry.details,
            correlation_id=event.correlation_id,
            recorded_at=now(),
        )
    )
    return {"auditEventId": event.event_id}
