"""`handle_incoming_messaging_event` and the consumer's answers, against the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.ingestion.payload import MessagingEvent, conversation_id
from chalicelib.ingestion.service import (
    UnsupportedEventError,
    consume_messaging_event,
    handle_incoming_messaging_event,
)
from chalicelib.ingestion.store import StoredMessage, StoreUnavailableError, UnstorableRecordError
from chalicelib.queue.outcome import NON_RETRYABLE_STATUS
from tests.unit.ingestion.fake_store import InMemoryConversationStore
from tests.unit.ingestion.meta_payloads import (
    BUSINESS_ID,
    USER_ID,
    delivery_event,
    message_event,
    reaction_event,
    read_event,
)

CONVERSATION = conversation_id(USER_ID, BUSINESS_ID)


@pytest.fixture
def store() -> InMemoryConversationStore:
    return InMemoryConversationStore()


def _handle(store: InMemoryConversationStore, data: dict[str, Any]) -> bool:
    result = handle_incoming_messaging_event(MessagingEvent.model_validate(data), store)
    assert result.conversation_id == CONVERSATION
    return result.changed


def test_messages_of_both_directions_land_in_one_conversation_in_order(
    store: InMemoryConversationStore,
) -> None:
    assert _handle(store, message_event("m2", "second", timestamp=2_000))
    assert _handle(
        store,
        message_event(
            "m1", "first", sender=BUSINESS_ID, recipient=USER_ID, timestamp=1_000, is_echo=True
        ),
    )
    stored = store.messages(CONVERSATION)
    assert [(m.mid, m.text, m.sender_id, m.is_echo) for m in stored] == [
        ("m1", "first", BUSINESS_ID, True),
        ("m2", "second", USER_ID, False),
    ]


def test_a_message_is_stored_once_however_often_it_arrives(
    store: InMemoryConversationStore,
) -> None:
    assert _handle(store, message_event("m1", "hi"))
    assert not _handle(store, message_event("m1", "hi"))
    # Even a copy with another timestamp: the mid is the identity.
    assert not _handle(store, message_event("m1", "hi", timestamp=5))
    assert [m.mid for m in store.messages(CONVERSATION)] == ["m1"]


def test_attachments_are_stored_with_the_message(store: InMemoryConversationStore) -> None:
    attachment = {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}
    _handle(store, message_event("m1", attachments=[attachment]))
    (message,) = store.messages(CONVERSATION)
    assert [a.model_dump() for a in message.attachments] == [attachment]


def test_receipts_are_recorded_once_each(store: InMemoryConversationStore) -> None:
    assert _handle(store, read_event("m1"))
    assert not _handle(store, read_event("m1"))
    assert _handle(store, delivery_event(["m1", "m2"], 1_000))
    assert not _handle(store, delivery_event(["m1", "m2"], 1_000))
    receipts = {(r.kind, r.mids, r.watermark, r.reader_id) for r in store.receipts(CONVERSATION)}
    assert receipts == {
        ("read", ("m1",), None, USER_ID),
        ("delivery", ("m1", "m2"), 1_000, USER_ID),
    }


def test_unreact_marks_the_reaction_taken_back(store: InMemoryConversationStore) -> None:
    assert _handle(store, reaction_event("m1", timestamp=1))
    (reaction,) = store.reactions(CONVERSATION)
    assert (reaction.action, reaction.reaction, reaction.emoji) == ("react", "love", "\u2764")
    assert _handle(store, reaction_event("m1", "unreact", timestamp=2))
    (reaction,) = store.reactions(CONVERSATION)
    assert (reaction.action, reaction.reaction, reaction.emoji) == ("unreact", None, None)


def test_a_late_reaction_never_overrides_a_newer_one(store: InMemoryConversationStore) -> None:
    assert _handle(store, reaction_event("m1", "unreact", timestamp=2))
    assert not _handle(store, reaction_event("m1", timestamp=1))  # delivered out of order
    assert not _handle(store, reaction_event("m1", "unreact", timestamp=2))  # a duplicate
    assert [r.action for r in store.reactions(CONVERSATION)] == ["unreact"]


def test_each_person_has_their_own_reaction(store: InMemoryConversationStore) -> None:
    _handle(store, reaction_event("m1", reactor=USER_ID, other=BUSINESS_ID))
    _handle(store, reaction_event("m1", reactor=BUSINESS_ID, other=USER_ID))
    assert {r.reactor_id for r in store.reactions(CONVERSATION)} == {USER_ID, BUSINESS_ID}


def test_an_event_of_no_handled_kind_is_refused(store: InMemoryConversationStore) -> None:
    data = message_event("m1")
    del data["message"]
    with pytest.raises(UnsupportedEventError):
        handle_incoming_messaging_event(MessagingEvent.model_validate(data), store)
    assert store.writes == 0


class RefusingStore(InMemoryConversationStore):
    """Refuses every message with `error`, as DynamoDB does an item over 400 KB (or when down)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def add_message(self, message: StoredMessage) -> bool:
        raise self.error


def test_the_consumer_answers_a_duplicate_as_done_and_duplicate(
    store: InMemoryConversationStore,
) -> None:
    event = MessagingEvent.model_validate(message_event("m1", "hi"))
    first, again = (consume_messaging_event(event, store) for _ in range(2))
    assert (first.status_code, first.body["duplicate"], first.body["changed"]) == (200, False, True)
    assert (again.status_code, again.body["duplicate"], again.body["changed"]) == (200, True, False)
    assert again.body["conversationId"] == CONVERSATION


def test_the_consumer_dead_letters_what_can_never_be_stored() -> None:
    refused = RefusingStore(UnstorableRecordError("Item size has exceeded the maximum"))
    outcome = consume_messaging_event(MessagingEvent.model_validate(message_event("m1")), refused)
    assert outcome.status_code == NON_RETRYABLE_STATUS
    assert outcome.headers["Upstash-NonRetryable-Error"] == "true"
    assert "Item size" in outcome.body["error"]
    data = message_event("m2")
    del data["message"]
    unsupported = consume_messaging_event(MessagingEvent.model_validate(data), refused)
    assert unsupported.status_code == NON_RETRYABLE_STATUS


def test_the_consumer_asks_for_a_retry_while_the_store_is_down() -> None:
    down = RefusingStore(StoreUnavailableError("ThrottlingException"))
    outcome = consume_messaging_event(MessagingEvent.model_validate(message_event("m1")), down)
    assert outcome.status_code == 503
    assert outcome.headers["Retry-After"] == "5"
