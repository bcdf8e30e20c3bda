"""What happens to Instagram messaging events: queued at the webhook, stored by the consumer."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from chalicelib.ingestion.payload import EventKind, MessagingEvent
from chalicelib.ingestion.store import (
    ConversationStore,
    StoredMessage,
    StoredReaction,
    StoredReceipt,
    StoreUnavailableError,
    UnstorableRecordError,
)
from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.outcome import DeliveryOutcome

# A store that is down is usually back within seconds.
STORE_RETRY_SECONDS = 5


class UnsupportedEventError(ValueError):
    """The event is none of the kinds the consumer stores (it should never have been queued)."""


class IngestionResult(BaseModel):
    """What one event did: `changed` is False for a duplicate or an out-of-date event."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    kind: EventKind
    conversation_id: str
    changed: bool


def ingestion_messages(
    events: Sequence[MessagingEvent], consumer_url: str
) -> list[OutgoingMessage]:
    """One QStash message per event, for the consumer at `consumer_url`.

    The deduplication id comes from the event itself, so when Meta redelivers a webhook (after a
    503, or for its own reasons) QStash drops the copies it already has.
    """
    return [
        OutgoingMessage(
            url=consumer_url, body=event.wire_body(), deduplication_id=event.deduplication_id()
        )
        for event in events
    ]


def handle_incoming_messaging_event(
    event: MessagingEvent, store: ConversationStore
) -> IngestionResult:
    """Store `event` in its conversation, once however often it is delivered.

    Raises `UnsupportedEventError` for an event of no handled kind, and lets the store's
    `StoreUnavailableError` through (the delivery should be retried).
    """
    conversation = event.conversation_id
    sender, recipient, timestamp = event.sender.id, event.recipient.id, event.timestamp
    if event.message is not None:
        message = event.message
        changed = store.add_message(
            StoredMessage(
                conversation_id=conversation,
                mid=message.mid,
                sender_id=sender,
                recipient_id=recipient,
                timestamp=timestamp,
                text=message.text,
                attachments=tuple(message.attachments),
                is_echo=message.is_echo,
            )
        )
    elif event.read is not None:
        changed = store.record_receipt(
            StoredReceipt(
                conversation_id=conversation,
                kind="read",
                reader_id=sender,
                timestamp=timestamp,
                mids=(event.read.mid,),
            )
        )
    elif event.delivery is not None:
        changed = store.record_receipt(
            StoredReceipt(
                conversation_id=conversation,
                kind="delivery",
                reader_id=sender,
                timestamp=timestamp,
                mids=tuple(event.delivery.mids),
                watermark=event.delivery.watermark,
            )
        )
    elif event.reaction is not None:
        reaction = event.reaction
        changed = store.record_reaction(
            StoredReaction(
                conversation_id=conversation,
                mid=reaction.mid,
                reactor_id=sender,
                action=reaction.action,
                timestamp=timestamp,
                reaction=reaction.reaction if reaction.action == "react" else None,
                emoji=reaction.emoji if reaction.action == "react" else None,
            )
        )
    else:
        raise UnsupportedEventError("the event is not a message, read, delivery or reaction")
    kind = event.kind
    assert kind is not None  # one of the branches above matched
    return IngestionResult(kind=kind, conversation_id=conversation, changed=changed)


def consume_messaging_event(event: MessagingEvent, store: ConversationStore) -> DeliveryOutcome:
    """One QStash delivery of `event`, answered by QStash's contract.

    200 with `changed` and `duplicate` (true when the delivery changed nothing: the event was
    stored before, or a reaction at least as recent was); 489 for an event that can never be
    stored (no handled kind, or a record the store refuses); 503 while the store is unavailable.
    """
    try:
        result = handle_incoming_messaging_event(event, store)
    except (UnsupportedEventError, UnstorableRecordError) as exc:
        return DeliveryOutcome.rejected_permanently(str(exc))
    except StoreUnavailableError as exc:
        return DeliveryOutcome.retry_later(f"store unavailable: {exc}", STORE_RETRY_SECONDS)
    return DeliveryOutcome.done(**result.model_dump(by_alias=True), duplicate=not result.changed)
