"""Parsing Meta's webhook body, conversation ids and deduplication ids."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.ingestion.payload import InstagramWebhook, MessagingEvent, conversation_id
from chalicelib.ingestion.service import ingestion_messages
from tests.unit.ingestion.meta_payloads import (
    BUSINESS_ID,
    USER_ID,
    delivery_event,
    message_event,
    reaction_event,
    read_event,
    webhook,
)


def _event(data: dict[str, Any]) -> MessagingEvent:
    return MessagingEvent.model_validate(data)


def test_a_webhook_with_every_kind_parses_in_order() -> None:
    body = webhook(
        message_event("m1", attachments=[{"type": "image", "payload": {"url": "https://x/i"}}]),
        read_event("m1"),
        delivery_event(["m1"], 1_700_000_000_500),
        reaction_event("m1"),
    )
    events = InstagramWebhook.model_validate(body).events()
    assert [event.kind for event in events] == ["message", "read", "delivery", "reaction"]
    first = events[0].message
    assert first is not None
    assert (first.mid, first.text, first.attachments[0].type) == ("m1", "hello", "image")
    assert not first.is_echo


def test_fields_meta_adds_are_kept_and_passed_on() -> None:
    data = message_event("m1", reply_to={"mid": "m0"})
    data["new_top_level"] = 1
    event = _event(data)
    assert event.wire_body()["message"]["reply_to"] == {"mid": "m0"}
    assert event.wire_body()["new_top_level"] == 1
    assert _event(event.wire_body()) == event


def test_an_event_of_another_kind_is_valid_but_of_no_handled_kind() -> None:
    data = message_event("m1")
    del data["message"]
    data["postback"] = {"title": "Start", "payload": "START"}
    assert _event(data).kind is None


def test_an_entry_without_messaging_has_no_events() -> None:
    body = {"object": "instagram", "entry": [{"id": BUSINESS_ID, "time": 1, "changes": []}]}
    assert InstagramWebhook.model_validate(body).events() == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"object": "page", "entry": []},
        {"entry": []},
        {"object": "instagram"},
        {"object": "instagram", "entry": [{"time": 1, "messaging": []}]},
        webhook({"recipient": {"id": BUSINESS_ID}, "timestamp": 1, "message": {"mid": "m"}}),
        webhook({**message_event("m1"), "read": {"mid": "m1"}}),  # two kinds at once
        webhook(message_event("m1", timestamp=-1)),
        webhook(message_event("m1", sender="5522_1")),  # would make conversation ids ambiguous
        webhook({**message_event("m1"), "message": {"text": "no mid"}}),
        webhook(reaction_event("m1", action="like")),
        webhook({**delivery_event([], 1), "delivery": {"mids": []}}),
    ],
)
def test_a_body_that_is_not_metas_shape_is_invalid(body: Any) -> None:
    with pytest.raises(ValidationError):
        InstagramWebhook.model_validate(body)


def test_both_directions_are_one_conversation() -> None:
    inbound = _event(message_event("m1", sender=USER_ID, recipient=BUSINESS_ID))
    outbound = _event(message_event("m2", sender=BUSINESS_ID, recipient=USER_ID, is_echo=True))
    assert inbound.conversation_id == outbound.conversation_id
    assert inbound.conversation_id == conversation_id(BUSINESS_ID, USER_ID)
    assert conversation_id("b", "a") == "a_b"


def test_a_message_is_identified_by_its_mid_alone() -> None:
    first = _event(message_event("m1", text="hi"))
    again = _event(message_event("m1", text="hi", timestamp=1_700_000_000_001))
    assert first.deduplication_id() == again.deduplication_id()
    assert first.deduplication_id() != _event(message_event("m2")).deduplication_id()


def test_the_kind_is_part_of_the_identity() -> None:
    ids = {
        _event(message_event("m1")).deduplication_id(),
        _event(read_event("m1")).deduplication_id(),
        _event(reaction_event("m1")).deduplication_id(),
    }
    assert len(ids) == 3


def test_react_and_unreact_on_one_message_are_different_events() -> None:
    react = _event(reaction_event("m1", timestamp=1))
    unreact = _event(reaction_event("m1", "unreact", timestamp=2))
    react_again = _event(reaction_event("m1", timestamp=3))
    ids = {e.deduplication_id() for e in (react, unreact, react_again)}
    assert len(ids) == 3
    assert _event(reaction_event("m1", timestamp=1)).deduplication_id() == react.deduplication_id()


def test_a_delivery_is_identified_by_its_whole_json() -> None:
    delivery = delivery_event(["m1", "m2"], 1_700_000_000_500)
    reordered = json.loads(json.dumps(delivery, sort_keys=True))
    assert _event(delivery).deduplication_id() == _event(reordered).deduplication_id()
    other = delivery_event(["m1"], 1_700_000_000_500)
    assert _event(delivery).deduplication_id() != _event(other).deduplication_id()


def test_deduplication_ids_are_short_and_header_safe() -> None:
    long_mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE/+=" * 10
    for data in (message_event(long_mid), read_event(long_mid), delivery_event([long_mid], 9)):
        dedup = _event(data).deduplication_id()
        assert re.fullmatch(r"instagram-[a-z]+-[0-9a-f]{48}", dedup), dedup


def test_each_event_becomes_one_message_for_the_consumer() -> None:
    events = [_event(message_event("m1")), _event(read_event("m1"))]
    messages = ingestion_messages(events, "https://app.example/api/qstash/instagram-ingestion")
    assert [m.url for m in messages] == ["https://app.example/api/qstash/instagram-ingestion"] * 2
    assert [m.body for m in messages] == [e.wire_body() for e in events]
    assert [m.deduplication_id for m in messages] == [e.deduplication_id() for e in events]
