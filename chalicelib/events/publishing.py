"""Publish events: each to its topic's verified route, deduplicated by event id, with a failure
callback so an event QStash gives up on becomes a dead letter instead of vanishing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from chalicelib.events.catalogue import Topic, event_kind, webhook_path
from chalicelib.events.envelope import EventEnvelope, new_event
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
from chalicelib.queue.messages import OutgoingMessage, PublishReceipt

if TYPE_CHECKING:
    from chalicelib.queue.publisher import BatchPublisher
    from chalicelib.settings import Settings

FAILURE_CALLBACK_PATH = "/api/events/failure-callback"
PayloadT = TypeVar("PayloadT", bound=EventPayload)


class EventBusNotConfiguredError(RuntimeError):
    """QStash (its token) or the app's public URL (where QStash delivers) is not configured."""


class WrongTopicError(ValueError):
    """An event was published on a topic its type does not belong to."""


class EventBus:
    """Turns envelopes into QStash messages for the routes under `base_url`."""

    def __init__(self, publisher: BatchPublisher, base_url: str) -> None:
        self._publisher = publisher
        self._base_url = base_url.rstrip("/")

    def message(
        self,
        event: EventEnvelope,
        *,
        delay: int | None = None,
        retries: int | None = None,
        deduplication_id: str | None = None,
    ) -> OutgoingMessage:
        """The QStash message carrying `event` to its topic's route.

        The deduplication id is the event id unless given: a replay of a dead letter sends the
        same event again, which QStash would otherwise drop within its deduplication window.
        """
        return OutgoingMessage(
            url=self._base_url + webhook_path(event_kind(event.event_type).topic),
            body=event.wire(),
            # QStash drops a second publish with the same id, so a producer retrying is safe.
            deduplication_id=deduplication_id or event.event_id,
            failure_callback=self._base_url + FAILURE_CALLBACK_PATH,
            retries=retries,
            delay_seconds=delay,
        )

    def publish(
        self,
        topic: Topic,
        event: EventEnvelope,
        *,
        delay: int | None = None,
        retries: int | None = None,
        deduplication_id: str | None = None,
    ) -> PublishReceipt:
        """Publish one event on `topic`; `WrongTopicError` if its type belongs elsewhere."""
        expected = event_kind(event.event_type).topic
        if topic != expected:
            raise WrongTopicError(f"{event.event_type} belongs to {expected}, not {topic}")
        return self._publisher.publish(
            self.message(event, delay=delay, retries=retries, deduplication_id=deduplication_id)
        )

    def publish_many(self, events: Sequence[EventEnvelope]) -> list[PublishReceipt]:
        """Publish `events` in one batch call; receipts in the same order."""
        return self._publisher.publish_batch([self.message(event) for event in events])


def event_bus(settings: Settings) -> EventBus:
    """The bus over the configured QStash; `EventBusNotConfiguredError` when it cannot publish."""
    from chalicelib.queue.publisher import QStashPublisher
    from chalicelib.queue.qstash_client import qstash_client

    if not settings.qstash_configured or settings.public_base_url is None:
        raise EventBusNotConfiguredError("QSTASH_TOKEN and PUBLIC_BASE_URL are required")
    return EventBus(QStashPublisher(qstash_client(settings)), settings.public_base_url)


def _default_bus(bus: EventBus | None) -> EventBus:
    from chalicelib.settings import get_settings

    return bus if bus is not None else event_bus(get_settings())


def publish_event(
    topic: Topic,
    event: EventEnvelope,
    *,
    delay: int | None = None,
    retries: int | None = None,
    bus: EventBus | None = None,
) -> PublishReceipt:
    """Publish `event` on `topic` (delay in seconds; retries as QStash's default when None).

    Raises `PublishFailedError` when QStash does not take it, `EventBusNotConfiguredError`
    when publishing is not configured, `WrongTopicError` for a topic the type is not on.
    """
    return _default_bus(bus).publish(topic, event, delay=delay, retries=retries)


def publish_events(
    events: Sequence[EventEnvelope], *, bus: EventBus | None = None
) -> list[PublishReceipt]:
    """Publish several events in ONE QStash batch call, each on its catalogue topic."""
    if not events:
        return []
    return _default_bus(bus).publish_many(events)


class TypedPublisher(Generic[PayloadT]):
    """Publishes one event type: `publish_order_created(payload, correlation_id=...)`."""

    def __init__(self, event_type: str, default_source: str) -> None:
        self.event_type = event_type
        self.default_source = default_source

    def __call__(
        self,
        payload: PayloadT,
        *,
        correlation_id: str | None = None,
        event_id: str | None = None,
        source: str | None = None,
        bus: EventBus | None = None,
    ) -> EventEnvelope:
        """Wrap `payload` in a new envelope, publish it on its topic, and return the envelope."""
        kind = event_kind(self.event_type)
        if not isinstance(payload, kind.payload):
            raise TypeError(f"{self.event_type} carries {kind.payload.__name__}")
        event = new_event(
            self.event_type,
            payload,
            source=source or self.default_source,
            correlation_id=correlation_id,
            event_id=event_id,
        )
        publish_event(kind.topic, event, bus=bus)
        return event


publish_checkout_command = TypedPublisher[CheckoutCommand]("command.checkout", "api")
publish_order_created = TypedPublisher[OrderCreated]("order.created", "checkout")
publish_email_notification = TypedPublisher[EmailNotification]("notification.email", "checkout")
publish_stock_update = TypedPublisher[StockUpdated]("inventory.stock.updated", "inventory")
publish_low_stock = TypedPublisher[LowStock]("inventory.low_stock", "inventory")
publish_audit_log = TypedPublisher[AuditLog]("audit.log", "audit")
publish_dead_letter_recorded = TypedPublisher[DeadLetterRecorded](
    "deadletter.recorded", "deadletters"
)
