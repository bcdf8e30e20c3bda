"""Escrows end to end on the local stack: routes, DynamoDB, the Redis job queue, the SMTP sink,
the recording payments and a partner's webhook endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.dynamodb import dynamodb_client
from chalicelib.escrow.payloads import PaymentPayload
from chalicelib.escrow.runtime import escrow_store
from chalicelib.escrow.side_effects import stripe_capture_payment
from chalicelib.jobs.models import JobContext
from chalicelib.payments.recording_payments import RecordingPayments
from chalicelib.settings import get_settings
from tests.integration.escrow.conftest import EscrowApi, Partner

RELEASE_EFFECTS = [
    "release:send_release_email",
    "release:stripe_capture_payment",
    "release:webhook_escrow_status_changed",
    "release:audit_log_created",
]


def recorded_payments(escrow_id: str) -> list[tuple[str, int, str]]:
    settings = get_settings()
    payments = RecordingPayments(dynamodb_client(settings), settings.longhaul_table)
    return [(r.operation, r.amount, r.currency) for r in payments.recorded(escrow_id)]


def audit_actions(escrow_id: str) -> list[tuple[int, str, str]]:
    return [
        (e.sequence, e.action, e.state) for e in escrow_store(get_settings()).audit_log(escrow_id)
    ]


def effects(escrow: dict[str, Any]) -> list[str]:
    return [effect["effect"] for effect in escrow["sideEffects"]]


def test_create_then_release_runs_every_side_effect_once(api: EscrowApi, partner: Partner) -> None:
    created = api.create(partnerWebhookUrl=partner.url)
    escrow_id = created["escrowId"]
    assert created["state"] == "funded"
    assert created["notEnqueued"] == []

    released = api.act(escrow_id, "release", {"note": "goods received"})

    assert released.status == 200, released
    assert released.body["state"] == "released"
    assert released.body["notEnqueued"] == []
    escrow = api.run_side_effects(escrow_id)
    assert effects(escrow) == [
        "create:send_payment_confirmed_email",
        "create:audit_log_created",
        *RELEASE_EFFECTS,
    ]

    mails = {mail.subject: mail for mail in api.mails_about(escrow_id)}
    assert set(mails) == {
        "Payment confirmed: 1,299.00 EUR held in escrow",
        "Escrow released: 1,299.00 EUR paid to the seller",
    }
    released_mail = mails["Escrow released: 1,299.00 EUR paid to the seller"]
    assert sorted(released_mail.rcpt_tos) == ["buyer@example.com", "seller@example.com"]
    assert "goods received" in released_mail.text

    assert recorded_payments(escrow_id) == [("capture", 129_900, "EUR")]
    assert audit_actions(escrow_id) == [(0, "create", "funded"), (1, "release", "released")]

    (delivery,) = partner.deliveries
    assert delivery.verified
    assert delivery.headers["Longhaul-Event-Id"] == f"evt_{escrow_id}_1"
    event = delivery.event()
    assert (event["escrowId"], event["state"], event["previousState"]) == (
        escrow_id,
        "released",
        "funded",
    )


def test_a_capture_run_again_is_still_recorded_once(api: EscrowApi) -> None:
    escrow_id = api.create()["escrowId"]
    api.act(escrow_id, "release")
    api.run_side_effects(escrow_id)
    (job_id,) = [
        effect["jobId"]
        for effect in api.show(escrow_id)["sideEffects"]
        if effect["effect"] == "release:stripe_capture_payment"
    ]

    # The same job's work once more, as after a crash between the capture and its record.
    again = stripe_capture_payment(
        PaymentPayload(
            escrow_id=escrow_id,
            payment_id="pi_3Pintegration",
            amount=129_900,
            currency="EUR",
            idempotency_key=f"escrow-{escrow_id}-capture",
        ),
        JobContext(job_id=job_id, job_type="stripe_capture_payment", attempt=2, max_attempts=5),
    )

    assert again is not None
    assert again["replayed"] is True
    assert recorded_payments(escrow_id) == [("capture", 129_900, "EUR")]


def test_a_refund_after_a_release_is_refused_and_enqueues_nothing(api: EscrowApi) -> None:
    escrow_id = api.create()["escrowId"]
    api.act(escrow_id, "release")
    before = api.run_side_effects(escrow_id)

    refused = api.act(escrow_id, "refund")

    assert refused.status == 409
    assert refused.body["state"] == "released"
    assert refused.body["escrowId"] == escrow_id
    after = api.show(escrow_id)
    assert after == before
    assert not [effect for effect in effects(after) if effect.startswith("refund:")]
    assert recorded_payments(escrow_id) == [("capture", 129_900, "EUR")]


def test_a_dispute_resolved_as_a_refund(api: EscrowApi, partner: Partner) -> None:
    escrow_id = api.create(partnerWebhookUrl=partner.url)["escrowId"]

    disputed = api.act(escrow_id, "dispute", {"note": "the parcel never arrived"})
    assert disputed.status == 200, disputed
    assert disputed.body["state"] == "disputed"
    assert api.act(escrow_id, "release").status == 409  # frozen while disputed
    resolved = api.act(
        escrow_id, "dispute/resolve", {"resolution": "refund", "note": "carrier lost it"}
    )

    assert resolved.status == 200, resolved
    assert resolved.body["state"] == "refunded"
    assert [t["action"] for t in resolved.body["transitions"]] == ["create", "dispute", "resolve"]
    api.run_side_effects(escrow_id)
    subjects = sorted(mail.subject for mail in api.mails_about(escrow_id))
    assert subjects == [
        "Dispute resolved: 1,299.00 EUR refunded to the buyer",
        "Escrow disputed: 1,299.00 EUR on hold",
        "Escrow refunded: 1,299.00 EUR returned to the buyer",
        "Payment confirmed: 1,299.00 EUR held in escrow",
    ]
    assert recorded_payments(escrow_id) == [("refund", 129_900, "EUR")]
    assert audit_actions(escrow_id) == [
        (0, "create", "funded"),
        (1, "dispute", "disputed"),
        (2, "resolve", "refunded"),
    ]
    assert [d.event()["state"] for d in partner.deliveries] == ["disputed", "refunded"]
    assert all(d.verified for d in partner.deliveries)


def test_a_repeated_release_heals_side_effects_that_were_not_enqueued(
    api: EscrowApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    escrow_id = api.create()["escrowId"]
    # Redis goes away for the release: nothing can be enqueued.
    with monkeypatch.context() as patched:
        patched.setenv("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:9/")
        get_settings.cache_clear()
        released = api.act(escrow_id, "release")
    get_settings.cache_clear()

    assert released.status == 200, released
    assert released.body["state"] == "released"
    assert released.body["notEnqueued"] == [
        "release:send_release_email",
        "release:stripe_capture_payment",
        "release:audit_log_created",
    ]
    shown = api.show(escrow_id)
    assert shown["notEnqueued"] == released.body["notEnqueued"]

    again = api.act(escrow_id, "release")

    assert again.status == 200, again
    assert again.body["notEnqueued"] == []
    assert len(again.body["transitions"]) == 2
    api.run_side_effects(escrow_id)
    assert recorded_payments(escrow_id) == [("capture", 129_900, "EUR")]
    assert [m.subject for m in api.mails_about(escrow_id)].count(
        "Escrow released: 1,299.00 EUR paid to the seller"
    ) == 1


def test_the_escrow_shows_its_jobs_and_their_states(api: EscrowApi) -> None:
    escrow_id = api.create()["escrowId"]

    shown = api.show(escrow_id)

    assert [(e["effect"], e["jobType"]) for e in shown["sideEffects"]] == [
        ("create:send_payment_confirmed_email", "send_payment_confirmed_email"),
        ("create:audit_log_created", "audit_log_created"),
    ]
    assert all(len(e["jobId"]) == 32 for e in shown["sideEffects"])
    assert {e["state"] for e in shown["sideEffects"]} <= {"ready", "in_flight", "completed"}
    done = api.run_side_effects(escrow_id)
    assert {e["state"] for e in done["sideEffects"]} == {"completed"}
