"""The SMTP sink: a real SMTP conversation in, the same message out of the store and over HTTP."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from devstack.service import BackgroundServer
from devstack.smtp import MailStore, SmtpSink, create_mail_api


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink = SmtpSink(MailStore(tmp_path / "mail"), port=0).start()
    yield sink
    sink.stop()


def _send(sink: SmtpSink, subject: str, to: list[str], text: str) -> None:
    message = EmailMessage()
    message["From"] = "orders@shop.test"
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
        client.send_message(message)


def test_a_sent_message_is_stored_with_its_envelope(sink: SmtpSink) -> None:
    _send(sink, "Your order #42 — confirmed", ["ana@example.test", "bo@example.test"], "Thanks!")
    [mail] = sink.store.list()
    assert mail.mail_from == "orders@shop.test"
    assert mail.rcpt_tos == ["ana@example.test", "bo@example.test"]
    assert mail.subject == "Your order #42 — confirmed"
    assert mail.text.strip() == "Thanks!"
    assert (sink.store.directory / f"{mail.id}.eml").exists()


def test_messages_are_listed_in_arrival_order_and_can_be_cleared(sink: SmtpSink) -> None:
    for n in range(3):
        _send(sink, f"message {n}", ["ana@example.test"], "x")
    assert [m.subject for m in sink.store.list()] == ["message 0", "message 1", "message 2"]
    assert sink.store.clear() == 3
    assert sink.store.list() == []


def test_the_http_listing_shows_what_the_store_holds(sink: SmtpSink) -> None:
    _send(sink, "hello", ["ana@example.test"], "body")
    with BackgroundServer(lambda: create_mail_api(sink.store)) as api:
        with urllib.request.urlopen(f"{api.url}/messages", timeout=5) as response:
            listed = json.loads(response.read())
        assert [m["subject"] for m in listed] == ["hello"]
        with urllib.request.urlopen(f"{api.url}/messages/{listed[0]['id']}", timeout=5) as one:
            assert json.loads(one.read())["rcpt_tos"] == ["ana@example.test"]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{api.url}/messages/nope", timeout=5)
        assert missing.value.code == 404
