"""Which topic each event type travels on, and the model its payload must fit."""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

from chalicelib.events.payloads import (
    AuditLog,
    CheckoutCommand,
    DeadLetterRecorded,
    EmailNotification,
    EventPayload,
    LowStock,
    OrderCreated,
    StockUpdated,
)

Topic = Literal["commands", "orders", "notifications", "inventory", "analytics"]
TOPICS: tuple[Topic, ...] = get_args(Topic)


class EventKind(NamedTuple):
    """An event type's topic and payload model."""

    topic: Topic
    payload: type[EventPayload]


CATALOGUE: dict[str, EventKind] = {
    "command.checkout": EventKind("commands", CheckoutCommand),
    "order.created": EventKind("orders", OrderCreated),
    "notification.email": EventKind("notifications", EmailNotification),
    "inventory.stock.updated": EventKind("inventory", StockUpdated),
    "inventory.low_stock": EventKind("inventory", LowStock),
    "audit.log": EventKind("analytics", AuditLog),
    "deadletter.recorded": EventKind("analytics", DeadLetterRecorded),
}


class UnknownEventTypeError(ValueError):
    """The event type is not in the catalogue."""


def event_kind(event_type: str) -> EventKind:
    """The topic and payload model of `event_type`; `UnknownEventTypeError` if none."""
    try:
        return CATALOGUE[event_type]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {event_type!r}") from None


def topic_of(event_type: str) -> Topic:
    """The topic `event_type` is published on."""
    return event_kind(event_type).topic


def webhook_path(topic: Topic) -> str:
    """The app route QStash delivers the topic's events to."""
    return f"/api/webhooks/{topic}"
