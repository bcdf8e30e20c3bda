"""Consume a delivered event: validate it, then run its handler once per event id.

QStash delivers at least once, so the handler runs inside `run_once` keyed by the event id: a
second delivery (sequential or concurrent, or a retry after a crash once the crashed attempt's
record has expired) gets the stored result and answers 200 with `duplicate: true`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from chalicelib.events.catalogue import Topic, UnknownEventTypeError, event_kind
from chalicelib.events.envelope import EventEnvelope
from chalicelib.json_documents import UnreadableJsonError, read_json
from chalicelib.observability import count_metric, logger
from chalicelib.queue.outcome import DeliveryOutcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

# The payload argument is the event type's payload model (see the catalogue).
EventHandler = Callable[[Any, EventEnvelope], dict[str, Any] | None]
HandlerT = TypeVar("HandlerT", bound=EventHandler)
# A busy duplicate asks QStash to come back after this long: most handlers finish by then.
STILL_RUNNING_RETRY_SECONDS = 5


class PermanentEventError(Exception):
    """The event can never be handled (bad data for this handler): dead-letter it, no retry."""


class EventConsumers:
    """Handlers by event type; at most one per type, because its effect is keyed by event id."""

    def __init__(self) -> None:
        self._handlers: dict[str, EventHandler] = {}

    def on(self, event_type: str) -> Callable[[HandlerT], HandlerT]:
        """Register the decorated function as the handler of `event_type` (a catalogue type)."""
        event_kind(event_type)  # an unknown type is a programming error, caught at import

        def register(handler: HandlerT) -> HandlerT:
            existing = self._handlers.get(event_type)
            if existing is not None and existing is not handler:
                raise ValueError(f"{event_type} already has a handler: {existing!r}")
            self._handlers[event_type] = handler
            return handler

        return register

    def handler_for(self, event_type: str) -> EventHandler | None:
        """The handler of `event_type`, or None when nothing consumes it."""
        return self._handlers.get(event_type)


consumers = EventConsumers()


class _Rejected(Exception):
    """The delivery can never be consumed: answered 489."""


def _parsed(topic: Topic, body: bytes) -> tuple[EventEnvelope, Any]:
    """The envelope and its typed payload, checked against the catalogue and the topic."""
    try:
        event = EventEnvelope.model_validate(read_json(body))
        kind = event_kind(event.event_type)
        if kind.topic != topic:
            raise _Rejected(f"{event.event_type} is not an event of topic {topic}")
        return event, kind.payload.model_validate(event.payload)
    except UnreadableJsonError as exc:
        raise _Rejected(f"body is not JSON ({exc})") from exc
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors())
        raise _Rejected(f"invalid event: {fields}") from exc
    except UnknownEventTypeError as exc:
        raise _Rejected(str(exc)) from exc


def consume_delivery(
    topic: Topic,
    body: bytes,
    *,
    registry: EventConsumers,
    persistence: BasePersistenceLayer,
    lambda_context: LambdaContext | None = None,
) -> DeliveryOutcome:
    """Handle one delivery of a (signature-verified) body on `topic` by QStash's contract.

    200 done (`duplicate` says whether an earlier delivery had the effect); 489 for a body that
    can never be handled (not an envelope, wrong topic, invalid payload, `PermanentEventError`);
    503 with Retry-After while another delivery of the same event is running; 500 otherwise.
    """
    from chalicelib.queue.idempotency import StillRunningError, run_once

    try:
        event, payload = _parsed(topic, body)
    except _Rejected as exc:
        count_metric("EventRejected", topic=topic)
        return DeliveryOutcome.rejected_permanently(str(exc))
    log = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "correlation_id": event.correlation_id,
    }
    handler = registry.handler_for(event.event_type)
    if handler is None:
        return DeliveryOutcome.done(eventId=event.event_id, duplicate=False, handled=False)
    try:
        once = run_once(
            f"event:{event.event_id}",
            lambda: handler(payload, event),
            persistence=persistence,
            lambda_context=lambda_context,
        )
    except StillRunningError:
        return DeliveryOutcome.retry_later(
            "the event is being handled by another delivery", STILL_RUNNING_RETRY_SECONDS
        )
    except PermanentEventError as exc:
        logger.warning("event failed permanently", extra={**log, "error": str(exc)})
        count_metric("EventFailed", eventType=event.event_type, kind="permanent")
        return DeliveryOutcome.rejected_permanently(str(exc) or "permanent failure")
    except Exception as exc:  # any other failure is worth another attempt by QStash
        logger.exception("event handler failed", extra=log)
        count_metric("EventFailed", eventType=event.event_type, kind="transient")
        return DeliveryOutcome.failed(f"handler failed ({type(exc).__name__})")
    if once.duplicate:
        logger.info("duplicate event delivery", extra=log)
    return DeliveryOutcome.done(eventId=event.event_id, duplicate=once.duplicate, handled=True)
