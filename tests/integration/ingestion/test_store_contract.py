"""The DynamoDB store and the in-memory fake keep conversations the same way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chalicelib.ingestion.payload import Attachment, conversation_id
from chalicelib.ingestion.runtime import conversation_store
from chalicelib.ingestion.store import (
    ConversationStore,
    StoredMessage,
    StoredReaction,
    StoredReceipt,
    UnstorableRecordError,
)
from chalicelib.settings import get_settings
from tests.unit.ingestion.fake_store import InMemoryConversationStore


@pytest.fixture(params=["dynamodb", "memory"])
def any_store(request: pytest.FixtureRequest) -> Iterator[ConversationStore]:
    if request.param == "memory":
        yield InMemoryConversationStore()
        return
    request.getfixturevalue("local_stack")
    get_settings.cache_clear()
    yield conversation_store(get_settings())


@pytest.fixture
def people() -> tuple[str, str, str]:
    user, business = str(uuid.uuid4().int)[:15], str(uuid.uuid4().int)[:17]
    return user, business, conversation_id(user, business)


def _message(people: tuple[str, str, str], mid: str, timestamp: int, **kw: object) -> StoredMessage:
    user, business, conversation = people
    return StoredMessage.model_validate(
        {
            "conversation_id": conversation,
            "mid": mid,
            "sender_id": user,
            "recipient_id": business,
            "timestamp": timestamp,
            **kw,
        }
    )


def test_messages_are_kept_once_per_mid_and_read_back_in_time_order(
    any_store: ConversationStore, people: tuple[str, str, str]
) -> None:
    late, early = f"late-{uuid.uuid4().hex}", f"early-{uuid.uuid4().hex}"
    photo = Attachment(type="image", payload={"url": "https://cdn.example/p.jpg"})
    assert any_store.add_message(_message(people, late, 20_000, text="second"))
    assert any_store.add_message(_message(people, early, 3_000, attachments=(photo,), is_echo=True))
    assert not any_store.add_message(_message(people, late, 20_000, text="second"))
    assert not any_store.add_message(_message(people, late, 25_000, text="changed time"))
    assert any_store.messages(people[2]) == [
        _message(people, early, 3_000, attachments=(photo,), is_echo=True),
        _message(people, late, 20_000, text="second"),
    ]


def test_a_message_larger_than_an_item_may_be_is_refused_for_good(
    local_stack: object, people: tuple[str, str, str]
) -> None:
    get_settings.cache_clear()
    store = conversation_store(get_settings())
    mid = f"huge-{uuid.uuid4().hex}"
    with pytest.raises(UnstorableRecordError, match="size"):
        store.add_message(_message(people, mid, 1_000, text="x" * 410_000))
    # Nothing of the transaction was written: the mid can still be stored with a usable text.
    assert store.messages(people[2]) == []
    assert store.add_message(_message(people, mid, 1_000, text="x"))


def test_receipts_are_kept_once_each(
    any_store: ConversationStore, people: tuple[str, str, str]
) -> None:
    user, _, conversation = people
    read = StoredReceipt(
        conversation_id=conversation, kind="read", reader_id=user, timestamp=5, mids=("m1",)
    )
    delivered = StoredReceipt(
        conversation_id=conversation, kind="delivery", reader_id=user, timestamp=6, watermark=4
    )
    assert any_store.record_receipt(read)
    assert any_store.record_receipt(delivered)
    assert not any_store.record_receipt(read)
    assert sorted(any_store.receipts(conversation), key=lambda r: r.kind) == [delivered, read]


def test_a_reaction_only_moves_forward_in_time(
    any_store: ConversationStore, people: tuple[str, str, str]
) -> None:
    user, _, conversation = people

    def reaction(action: str, timestamp: int) -> StoredReaction:
        emoji = "\u2764" if action == "react" else None
        return StoredReaction.model_validate(
            {
                "conversation_id": conversation,
                "mid": "m1",
                "reactor_id": user,
                "action": action,
                "timestamp": timestamp,
                "emoji": emoji,
            }
        )

    assert any_store.record_reaction(reaction("react", 10))
    assert any_store.record_reaction(reaction("unreact", 20))
    assert not any_store.record_reaction(reaction("react", 15))
    assert not any_store.record_reaction(reaction("unreact", 20))
    assert any_store.reactions(conversation) == [reaction("unreact", 20)]
    assert any_store.record_reaction(reaction("react", 30))
    assert any_store.reactions(conversation) == [reaction("react", 30)]


def test_an_unknown_conversation_is_empty(any_store: ConversationStore) -> None:
    unknown = conversation_id("1", uuid.uuid4().hex)
    assert any_store.messages(unknown) == []
    assert any_store.receipts(unknown) == []
    assert any_store.reactions(unknown) == []
