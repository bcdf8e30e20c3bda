"""The escrow job handlers' work, with fakes: what each sends, writes or calls, and how each
failure is sorted into a retry or a dead letter."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from chalicelib.escrow import side_effects
from chalicelib.escrow.partner_webhooks import (
    PartnerRejectedError,
    PartnerUnavailableError,
    verify_partner_signature,
)
from chalicelib.escrow.payloads import (
    AuditPayload,
    EscrowEmailPayload,
    EscrowStatusChanged,
    PaymentPayload,
    WebhookPayload,
)
from chalicelib.jobs.models import JobContext
from chalicelib.jobs.registry import PermanentJobError, registry
from chalicelib.mail.sender import MailSendError
from chalicelib.payments.gateway import (
    PaymentRejectedError,
    PaymentsNotConfiguredError,
    PaymentUnavailableError,
)
from tests.fakes.escrow_store import InMemoryEscrowStore
from tests.fakes.mailer import RecordingMailer
from tests.fakes.payments import FakePayments
from tests.unit.escrow.conftest import NOW

ESCROW_ID = "cd" * 16
JOB = JobContext(job_id="f" * 32, job_type="any", attempt=1, max_attempts=5)
NINE = {
    "send_payment_confirmed_email",
    "send_release_email",
    "send_refund_email",
    "send_dispute_email",
    "notify_dispute_resolved",
    "stripe_capture_payment",
    "stripe_refund_payment",
    "webhook_escrow_status_changed",
    "audit_log_created",
}


def payload_model(job_type: str) -> type[BaseModel]:
    handler = registry.get(job_type)
    assert handler is not None, job_type
    return handler.payload_model


def test_the_nine_job_types_are_registered_with_their_payload_models() -> None:
    assert set(registry.types) >= NINE
    assert payload_model("send_release_email") is EscrowEmailPayload
    assert payload_model("notify_dispute_resolved") is EscrowEmailPayload
    assert payload_model("stripe_refund_payment") is PaymentPayload
    assert payload_model("webhook_escrow_status_changed") is WebhookPayload
    assert payload_model("audit_log_created") is AuditPayload


def email_payload() -> EscrowEmailPayload:
    return EscrowEmailPayload(
        escrow_id=ESCROW_ID,
        amount=4_999,
        currency="USD",
        recipients=("buyer@example.com", "seller@example.com"),
        state="released",
        occurred_at=NOW,
    )


def test_an_email_job_sends_one_email_with_a_message_id_from_the_job() -> None:
    mailer = RecordingMailer()

    result = side_effects.send_escrow_email("send_release_email", email_payload(), JOB, mailer)

    (email,) = mailer.sent
    assert email.message_id == f"job-{JOB.job_id}"
    assert "49.99 USD" in email.subject
    assert result["messageId"] == email.message_id


def test_a_failed_send_propagates_so_the_job_is_retried() -> None:
    with pytest.raises(MailSendError):
        side_effects.send_escrow_email(
            "send_release_email", email_payload(), JOB, RecordingMailer(fail_next=1)
        )


def payment_payload() -> PaymentPayload:
    return PaymentPayload(
        escrow_id=ESCROW_ID,
        payment_id="pi_9",
        amount=4_999,
        currency="USD",
        idempotency_key=f"escrow-{ESCROW_ID}-capture",
    )


def test_a_repeated_capture_moves_money_once() -> None:
    payments = FakePayments()

    first = side_effects.move_payment("capture", payment_payload(), payments)
    again = side_effects.move_payment("capture", payment_payload(), payments)

    assert len(payments.receipts) == 1
    assert (first["operation"], first["replayed"], again["replayed"]) == ("capture", False, True)


@pytest.mark.parametrize(
    "error", [PaymentRejectedError("already refunded"), PaymentsNotConfiguredError("no key")]
)
def test_a_refused_or_unconfigured_payment_is_permanent(error: Exception) -> None:
    payments = FakePayments()
    payments.fail_next = [error]

    with pytest.raises(PermanentJobError, match=str(error)):
        side_effects.move_payment("refund", payment_payload(), payments)


def test_an_unavailable_provider_propagates_so_the_job_is_retried() -> None:
    payments = FakePayments()
    payments.fail_next = [PaymentUnavailableError("503")]

    with pytest.raises(PaymentUnavailableError):
        side_effects.move_payment("capture", payment_payload(), payments)


def webhook_payload() -> WebhookPayload:
    return WebhookPayload(
        url="https://partner.example/hook",
        event=EscrowStatusChanged(
            event_id=f"evt_{ESCROW_ID}_1",
            escrow_id=ESCROW_ID,
            action="release",
            state="released",
            previous_state="funded",
            amount=4_999,
            currency="USD",
            occurred_at=NOW,
        ),
    )


class FakePartner:
    """Stands in for `deliver`: keeps each delivery, or raises `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.deliveries: list[dict[str, object]] = []

    def __call__(self, url: str, **delivery: object) -> int:
        if self.error is not None:
            raise self.error
        self.deliveries.append({"url": url, **delivery})
        return 200


def test_a_webhook_is_signed_with_the_secret_at_the_delivery_time() -> None:
    partner = FakePartner()

    result = side_effects.notify_partner(
        webhook_payload(), secret="s3cret", timeout=2, now=lambda: 1_800_000_000.7, post=partner
    )

    (delivery,) = partner.deliveries
    assert delivery["url"] == "https://partner.example/hook"
    assert delivery["event_id"] == f"evt_{ESCROW_ID}_1"
    assert delivery["timestamp"] == 1_800_000_000
    body = delivery["body"]
    assert isinstance(body, bytes)
    event = json.loads(body)
    assert (event["state"], event["previousState"]) == ("released", "funded")
    assert result == {"eventId": f"evt_{ESCROW_ID}_1", "status": 200}


def test_every_attempt_of_one_event_has_the_same_event_id() -> None:
    partner = FakePartner()
    times = iter([1_800_000_000.0, 1_800_000_060.0])
    for _ in range(2):
        side_effects.notify_partner(
            webhook_payload(), secret="s", timeout=2, now=lambda: next(times), post=partner
        )
    assert {d["event_id"] for d in partner.deliveries} == {f"evt_{ESCROW_ID}_1"}
    assert [d["timestamp"] for d in partner.deliveries] == [1_800_000_000, 1_800_000_060]


def test_a_webhook_without_a_signing_secret_is_permanent() -> None:
    with pytest.raises(PermanentJobError, match="WEBHOOK_SIGNING_SECRET"):
        side_effects.notify_partner(webhook_payload(), secret=None, timeout=2, post=FakePartner())


def test_a_partner_refusal_is_permanent_and_an_outage_is_retried() -> None:
    with pytest.raises(PermanentJobError, match="404"):
        side_effects.notify_partner(
            webhook_payload(),
            secret="s",
            timeout=2,
            post=FakePartner(PartnerRejectedError("partner answered 404")),
        )
    with pytest.raises(PartnerUnavailableError):
        side_effects.notify_partner(
            webhook_payload(),
            secret="s",
            timeout=2,
            post=FakePartner(PartnerUnavailableError("partner answered 503")),
        )


def test_the_real_delivery_signature_verifies_for_the_partner() -> None:
    from chalicelib.escrow.partner_webhooks import signed_headers

    body = webhook_payload().event.model_dump_json(by_alias=True).encode()
    headers = signed_headers("s3cret", "evt", 1_800_000_000, body)
    assert verify_partner_signature(
        "s3cret",
        headers["Longhaul-Timestamp"],
        body,
        headers["Longhaul-Signature"],
        now=1_800_000_100,
    )


def audit_payload(note: str | None = None) -> AuditPayload:
    return AuditPayload(
        escrow_id=ESCROW_ID,
        sequence=1,
        action="release",
        state="released",
        at=NOW,
        amount=4_999,
        currency="USD",
        note=note,
    )


def test_a_repeated_audit_job_overwrites_its_entry_instead_of_adding_one() -> None:
    store = InMemoryEscrowStore()
    rerun = JOB.model_copy(update={"attempt": 2})

    side_effects.write_audit(audit_payload(), JOB, store)
    side_effects.write_audit(audit_payload("second run"), rerun, store)

    (entry,) = store.audit_log(ESCROW_ID)
    assert (entry.sequence, entry.action, entry.note) == (1, "release", "second run")
