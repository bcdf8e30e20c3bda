"""Sending billing emails: the flag and fallback matrix, and one email per send request id
whichever paths run, how often, and in what order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from chalicelib.billing.models import BillingKind, BillingMessage
from chalicelib.billing.service import (
    STILL_RUNNING_RETRY_SECONDS,
    BillingEnvironment,
    SendFailedError,
    SendInProgressError,
    StoreUnavailableError,
    deliver,
    record_dead,
    request_send,
)
from chalicelib.mail.messages import OutgoingEmail
from chalicelib.queue.callbacks import DeliveryCallback
from chalicelib.queue.publisher import Publisher
from tests.fakes.idempotency_cache import InMemoryCache, in_memory_persistence
from tests.fakes.mailer import RecordingMailer
from tests.unit.billing.fakes import FakePublisher, InMemoryCounterStore

CONSUMERS: dict[BillingKind, str] = {
    "invoice": "https://app.example/api/queue/send_invoice",
    "reminder": "https://app.example/api/queue/send_reminder",
}
FAILURE_CALLBACK = "https://app.example/api/queue/failed"


def _message(request_id: str = "r-1", kind: str = "invoice") -> BillingMessage:
    return BillingMessage.model_validate(
        {
            "kind": kind,
            "invoiceId": "INV-7",
            "recipient": "ada@example.com",
            "amount": 4200,
            "currency": "EUR",
            "dueDate": "2025-07-01",
            "requestId": request_id,
        }
    )


def _env(
    *,
    publisher: Publisher | None = None,
    enabled: bool = True,
    mailer: RecordingMailer | None = None,
    cache: InMemoryCache | None = None,
) -> BillingEnvironment:
    return BillingEnvironment(
        mailer=mailer or RecordingMailer(),
        persistence=in_memory_persistence(cache),
        counters=InMemoryCounterStore(),
        publisher=publisher,
        enabled=enabled,
        consumer_urls=CONSUMERS,
        failure_callback=FAILURE_CALLBACK,
    )


def _sent(env: BillingEnvironment) -> list[OutgoingEmail]:
    assert isinstance(env.mailer, RecordingMailer)
    return env.mailer.sent


def _counts(env: BillingEnvironment) -> dict[str, int]:
    assert isinstance(env.counters, InMemoryCounterStore)
    return dict(env.counters.counts)


def test_with_the_flag_on_and_qstash_taking_it_the_email_is_queued_not_sent() -> None:
    publisher = FakePublisher()
    env = _env(publisher=publisher)
    message = _message(kind="reminder")

    result = request_send(message, env)

    assert result.model_dump(mode="json") == {
        "kind": "reminder",
        "invoiceId": "INV-7",
        "requestId": "r-1",
        "queued": True,
        "messageId": "msg_1",
        "fallback": None,
        "duplicate": False,
    }
    [published] = publisher.published
    assert published.url == CONSUMERS["reminder"]
    assert published.deduplication_id == "billing:reminder:INV-7:r-1"
    assert published.failure_callback == FAILURE_CALLBACK
    assert BillingMessage.model_validate(published.body) == message
    assert _sent(env) == []
    assert _counts(env) == {"queued": 1}


@pytest.mark.parametrize(
    ("reason", "publisher", "enabled"),
    [
        ("disabled", FakePublisher(), False),
        ("not_configured", None, True),
        ("publish_failed", FakePublisher(fail=True), True),
    ],
)
def test_every_fallback_sends_inline_once_and_is_counted_with_its_reason(
    reason: str, publisher: FakePublisher | None, enabled: bool
) -> None:
    env = _env(publisher=publisher, enabled=enabled)

    result = request_send(_message(), env)

    assert (result.queued, result.fallback, result.duplicate) == (False, reason, False)
    assert result.message_id is None
    [email] = _sent(env)
    assert email.to == ("ada@example.com",)
    assert email.subject.startswith("Invoice INV-7: 42.00 EUR")
    assert _counts(env) == {f"fallback:{reason}": 1, "sent": 1}


def test_a_disabled_flag_never_asks_qstash() -> None:
    publisher = FakePublisher()

    request_send(_message(), _env(publisher=publisher, enabled=False))

    assert publisher.published == []


def test_the_same_request_id_twice_inline_sends_one_email() -> None:
    env = _env(enabled=False)

    first = request_send(_message(), env)
    second = request_send(_message(), env)

    assert (first.duplicate, second.duplicate) == (False, True)
    assert len(_sent(env)) == 1
    assert _counts(env) == {"fallback:disabled": 2, "sent": 1, "duplicate": 1}


def test_another_request_id_or_kind_is_another_email() -> None:
    env = _env(enabled=False)

    request_send(_message("r-1"), env)
    request_send(_message("r-2"), env)
    request_send(_message("r-1", kind="reminder"), env)

    assert [email.message_id for email in _sent(env)] == [
        "billing.invoice.INV-7.r-1",
        "billing.invoice.INV-7.r-2",
        "billing.reminder.INV-7.r-1",
    ]


def test_an_smtp_failure_inline_records_nothing_so_a_retry_sends() -> None:
    env = _env(enabled=False, mailer=RecordingMailer(fail_next=1))

    with pytest.raises(SendFailedError, match="refused"):
        request_send(_message(), env)
    assert _sent(env) == []
    assert _counts(env) == {"fallback:disabled": 1}

    retried = request_send(_message(), env)

    assert retried.duplicate is False
    assert len(_sent(env)) == 1


def test_an_ambiguous_publish_then_its_queued_delivery_still_sends_one_email() -> None:
    # QStash took the message but the answer was lost: the inline path sends, then QStash
    # delivers the message anyway.
    env = _env(publisher=FakePublisher(fail=True))
    message = _message()

    inline = request_send(message, env)
    delivered = deliver(message, env)

    assert inline.fallback == "publish_failed"
    assert (delivered.status_code, delivered.body["duplicate"]) == (200, True)
    assert len(_sent(env)) == 1


def test_a_queued_delivery_then_an_inline_send_of_the_same_request_sends_one_email() -> None:
    env = _env(enabled=False)
    message = _message()

    delivered = deliver(message, env)
    inline = request_send(message, env)

    assert delivered.body == {"ok": True, "duplicate": False, "key": message.effect_key}
    assert inline.duplicate is True
    assert len(_sent(env)) == 1


def test_a_delivery_delivered_twice_sends_once_and_answers_duplicate() -> None:
    env = _env()
    message = _message()

    first, second = deliver(message, env), deliver(message, env)

    assert (first.status_code, first.body["duplicate"]) == (200, False)
    assert (second.status_code, second.body["duplicate"]) == (200, True)
    assert len(_sent(env)) == 1
    assert _counts(env) == {"sent": 1, "duplicate": 1}


def test_an_smtp_failure_in_a_delivery_asks_qstash_to_retry_and_the_retry_sends() -> None:
    env = _env(mailer=RecordingMailer(fail_next=1))
    message = _message()

    failed = deliver(message, env)
    retried = deliver(message, env)

    assert failed.status_code == 503
    assert "mail server" in failed.body["error"]
    assert (retried.status_code, retried.body["duplicate"]) == (200, False)
    assert len(_sent(env)) == 1


class ReenteringMailer(RecordingMailer):
    """While sending, a second copy of the same message arrives (a concurrent delivery)."""

    def __init__(self, arrives: Any) -> None:
        super().__init__()
        self.arrives = arrives
        self.seen: list[Any] = []

    def send(self, email: OutgoingEmail) -> None:
        self.seen.append(self.arrives())
        super().send(email)


def test_a_delivery_arriving_while_another_sends_is_told_to_retry_later() -> None:
    message = _message()
    holder: list[BillingEnvironment] = []
    mailer = ReenteringMailer(lambda: deliver(message, holder[0]))
    holder.append(_env(mailer=mailer))

    first = deliver(message, holder[0])

    [concurrent] = mailer.seen
    assert concurrent.status_code == 503
    assert concurrent.headers == {"Retry-After": str(STILL_RUNNING_RETRY_SECONDS)}
    assert first.status_code == 200
    assert len(mailer.sent) == 1


def test_an_inline_send_arriving_while_another_sends_is_refused_as_in_progress() -> None:
    message = _message()
    holder: list[BillingEnvironment] = []

    def arrives() -> Exception | None:
        try:
            request_send(message, holder[0])
        except SendInProgressError as exc:
            return exc
        return None

    mailer = ReenteringMailer(arrives)
    holder.append(_env(mailer=mailer, enabled=False))

    request_send(message, holder[0])

    assert [type(seen) for seen in mailer.seen] == [SendInProgressError]
    assert len(mailer.sent) == 1


def test_without_the_once_only_store_nothing_is_sent() -> None:
    env = _env(enabled=False, cache=InMemoryCache(broken=True))

    with pytest.raises(StoreUnavailableError):
        request_send(_message(), env)
    delivered = deliver(_message(), replace(env, enabled=True))

    assert delivered.status_code == 503
    assert _sent(env) == []


def test_a_dead_message_is_counted_as_dead() -> None:
    env = _env()
    callback = DeliveryCallback.model_validate(
        {"status": 503, "sourceMessageId": "msg_9", "sourceBody": "e30=", "dlqId": "dlq_1"}
    )

    record_dead(_message(), callback, "the mail server is down", env.counters)

    assert _counts(env) == {"dead": 1}


def test_the_due_date_in_the_queued_body_is_an_iso_date() -> None:
    publisher = FakePublisher()

    request_send(_message(), _env(publisher=publisher))

    assert publisher.published[0].body["dueDate"] == date(2025, 7, 1).isoformat()
