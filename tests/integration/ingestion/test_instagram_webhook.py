"""Instagram webhooks through the local stack: Meta POSTs, QStash delivers, DynamoDB keeps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.ingestion.runtime import CONSUMER_PATH
from chalicelib.ingestion.store import ConversationStore
from chalicelib.ingestion.verification import payload_signature
from chalicelib.settings import get_settings
from tests.integration.ingestion.conftest import WEBHOOK, Instagram
from tests.unit.ingestion.meta_payloads import (
    message_event,
    reaction_event,
    read_event,
    webhook,
)
from tests.waiting import wait_until

TIMEOUT = 30


def _message(instagram: Instagram, mid: str, text: str = "hi", **kw: Any) -> dict[str, Any]:
    return message_event(mid, text, sender=instagram.user, recipient=instagram.business, **kw)


def _mids(store: ConversationStore, instagram: Instagram) -> list[str]:
    return [m.mid for m in store.messages(instagram.conversation)]


def test_a_signed_webhook_ends_as_stored_messages_receipt_and_reaction(
    instagram: Instagram, store: ConversationStore
) -> None:
    first, second = instagram.mid("first"), instagram.mid("second")
    body = webhook(
        _message(instagram, first, "hello", timestamp=1_700_000_000_000),
        message_event(
            second,
            "welcome!",
            sender=instagram.business,
            recipient=instagram.user,
            timestamp=1_700_000_001_000,
            is_echo=True,
        ),
        read_event(second, reader=instagram.user, other=instagram.business),
        reaction_event(second, reactor=instagram.user, other=instagram.business),
        account=instagram.business,
    )
    response = instagram.post(body)
    assert response.status_code == 200, response.body
    assert json.loads(response.body) == {"received": 4, "ignored": 0}

    def everything_stored() -> bool:
        conversation = instagram.conversation
        return (
            len(store.messages(conversation)) == 2
            and len(store.receipts(conversation)) == 1
            and len(store.reactions(conversation)) == 1
        )

    wait_until(everything_stored, timeout=TIMEOUT, what="the webhook's events to be stored")
    messages = store.messages(instagram.conversation)
    assert [(m.mid, m.text, m.sender_id, m.is_echo) for m in messages] == [
        (first, "hello", instagram.user, False),
        (second, "welcome!", instagram.business, True),
    ]
    (receipt,) = store.receipts(instagram.conversation)
    assert (receipt.kind, receipt.reader_id, receipt.mids) == ("read", instagram.user, (second,))
    (reaction,) = store.reactions(instagram.conversation)
    assert (reaction.mid, reaction.reactor_id, reaction.action, reaction.reaction) == (
        second,
        instagram.user,
        "react",
        "love",
    )


def test_the_same_webhook_twice_stores_each_message_once(
    instagram: Instagram, store: ConversationStore
) -> None:
    mids = [instagram.mid("a"), instagram.mid("b")]
    body = webhook(*(_message(instagram, mid, timestamp=1_000 + i) for i, mid in enumerate(mids)))
    assert instagram.post(body).status_code == 200
    assert instagram.post(body).status_code == 200
    wait_until(lambda: len(_mids(store, instagram)) >= 2, timeout=TIMEOUT, what="both messages")
    # A marker sent after both copies: once it is stored, the copies have been handled too.
    marker = instagram.mid("marker")
    assert instagram.post(webhook(_message(instagram, marker, timestamp=9_000))).status_code == 200
    wait_until(lambda: marker in _mids(store, instagram), timeout=TIMEOUT, what="the marker")
    assert _mids(store, instagram) == [*mids, marker]


def test_a_duplicate_delivery_to_the_consumer_is_a_no_op_that_succeeds(
    instagram: Instagram, store: ConversationStore
) -> None:
    mid = instagram.mid("dup")
    first = instagram.deliver(_message(instagram, mid))
    again = instagram.deliver(_message(instagram, mid))
    first_body, again_body = json.loads(first.body), json.loads(again.body)
    assert (first.status_code, first_body["changed"], first_body["duplicate"]) == (200, True, False)
    assert (again.status_code, again_body["changed"], again_body["duplicate"]) == (200, False, True)
    assert _mids(store, instagram) == [mid]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "forged"])
def test_a_forged_or_missing_meta_signature_is_refused_and_nothing_is_stored(
    instagram: Instagram, store: ConversationStore, signature: str | None
) -> None:
    forged = instagram.mid("forged")
    response = instagram.post(webhook(_message(instagram, forged)), signature=signature)
    assert response.status_code == 401
    # Signed with another app's secret: refused as well.
    other = webhook(_message(instagram, forged))
    raw = json.dumps(other).encode()
    assert (
        instagram.post(raw, signature=payload_signature("not-our-secret", raw)).status_code == 401
    )
    # Anything published would be delivered before a later, valid webhook's message.
    marker = instagram.mid("marker")
    assert instagram.post(webhook(_message(instagram, marker))).status_code == 200
    wait_until(lambda: marker in _mids(store, instagram), timeout=TIMEOUT, what="the marker")
    assert _mids(store, instagram) == [marker]


def test_a_forged_qstash_signature_on_the_consumer_is_refused(
    instagram: Instagram, store: ConversationStore
) -> None:
    mid = instagram.mid("forged")
    response = instagram.deliver(_message(instagram, mid), key="sig_notTheRealKey000000000000")
    assert response.status_code == 401
    unsigned = instagram.client.http.post(
        CONSUMER_PATH,
        headers={"Content-Type": "application/json"},
        body=json.dumps(_message(instagram, mid)).encode(),
    )
    assert unsigned.status_code == 401
    assert store.messages(instagram.conversation) == []


def _handshake(instagram: Instagram, **params: str) -> Any:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return instagram.client.http.get(f"{WEBHOOK}?{query}")


def test_the_handshake_echoes_the_challenge_for_the_right_token(instagram: Instagram) -> None:
    token = get_settings().instagram_verify_token
    assert token is not None
    response = _handshake(
        instagram,
        **{
            "hub.mode": "subscribe",
            "hub.verify_token": token.get_secret_value(),
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.body == b"1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_the_handshake_refuses_a_wrong_token_and_needs_every_parameter(
    instagram: Instagram,
) -> None:
    wrong = _handshake(
        instagram,
        **{"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403
    assert wrong.body != b"1"
    missing = _handshake(instagram, **{"hub.mode": "subscribe", "hub.challenge": "1"})
    assert missing.status_code == 400
    assert instagram.client.http.get(WEBHOOK).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        json.dumps({"object": "page", "entry": []}).encode(),
        json.dumps(
            {"object": "instagram", "entry": [{"id": "1", "time": 1, "messaging": [{}]}]}
        ).encode(),
        json.dumps(webhook({**message_event("m"), "read": {"mid": "m"}})).encode(),
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_malformed_webhook_body_is_a_400(instagram: Instagram, body: bytes) -> None:
    response = instagram.post(body)
    assert response.status_code == 400, response.body
    assert "error" in json.loads(response.body)


def test_an_empty_messaging_list_is_received_as_nothing(instagram: Instagram) -> None:
    response = instagram.post(webhook())
    assert response.status_code == 200
    assert json.loads(response.body) == {"received": 0, "ignored": 0}


def test_events_of_other_kinds_are_acknowledged_and_ignored(instagram: Instagram) -> None:
    postback = _message(instagram, "unused")
    del postback["message"]
    postback["postback"] = {"title": "Start", "payload": "START"}
    response = instagram.post(webhook(postback))
    assert response.status_code == 200
    assert json.loads(response.body) == {"received": 0, "ignored": 1}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        json.dumps({"sender": {"id": "1"}}).encode(),
        json.dumps({"sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1}).encode(),
    ],
)
def test_a_malformed_delivery_to_the_consumer_is_dead_lettered_at_once(
    instagram: Instagram, body: bytes
) -> None:
    response = instagram.deliver(body)
    assert response.status_code == 489, response.body
    assert response.headers["Upstash-NonRetryable-Error"] == "true"


def test_a_delivery_too_large_to_store_is_dead_lettered_at_once(
    instagram: Instagram, store: ConversationStore
) -> None:
    response = instagram.deliver(_message(instagram, instagram.mid("huge"), text="x" * 100_001))
    assert response.status_code == 489, response.body
    assert response.headers["Upstash-NonRetryable-Error"] == "true"
    assert _mids(store, instagram) == []


def test_when_qstash_cannot_take_the_batch_meta_is_told_to_deliver_again(
    instagram: Instagram, store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    mid = instagram.mid("unqueued")
    body = webhook(_message(instagram, mid))
    monkeypatch.setenv("QSTASH_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    get_settings.cache_clear()
    try:
        response = instagram.post(body)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert response.status_code == 503
    assert store.messages(instagram.conversation) == []
    # Meta's redelivery, once QStash is back, is stored.
    assert instagram.post(body).status_code == 200
    wait_until(lambda: _mids(store, instagram) == [mid], timeout=TIMEOUT, what="the redelivery")
