"""The escrow emails: amounts in the currency's units, the escrow id, what happened."""

from __future__ import annotations

import pytest

from chalicelib.escrow.emails import render_email
from chalicelib.escrow.payloads import EscrowEmailPayload
from tests.unit.escrow.conftest import NOW

ESCROW_ID = "ab" * 16


def payload(**changes: object) -> EscrowEmailPayload:
    values: dict[str, object] = {
        "escrowId": ESCROW_ID,
        "amount": 125_000,
        "currency": "EUR",
        "recipients": ("buyer@example.com", "seller@example.com"),
        "state": "released",
        "occurredAt": NOW,
        **changes,
    }
    return EscrowEmailPayload.model_validate(values)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (125_000, "EUR", "1,250.00 EUR"),
        (5, "USD", "0.05 USD"),
        (1_234_567, "JPY", "1,234,567 JPY"),
        (1_234, "KWD", "1.234 KWD"),
    ],
)
def test_amounts_are_shown_in_the_currency_s_own_units(
    minor: int, currency: str, text: str
) -> None:
    email = render_email("send_release_email", payload(amount=minor, currency=currency), "j")
    assert email.subject == f"Escrow released: {text} paid to the seller"
    assert f"Amount: {text}" in email.text


@pytest.mark.parametrize(
    ("job_type", "state", "subject", "happened"),
    [
        (
            "send_payment_confirmed_email",
            "funded",
            "Payment confirmed: 1,250.00 EUR held in escrow",
            f"is held in escrow {ESCROW_ID}",
        ),
        (
            "send_release_email",
            "released",
            "Escrow released: 1,250.00 EUR paid to the seller",
            "has been released to the seller",
        ),
        (
            "send_refund_email",
            "refunded",
            "Escrow refunded: 1,250.00 EUR returned to the buyer",
            "has been refunded to the buyer",
        ),
        (
            "send_dispute_email",
            "disputed",
            "Escrow disputed: 1,250.00 EUR on hold",
            "has been disputed",
        ),
    ],
)
def test_each_email_says_what_happened_to_which_escrow_and_how_much(
    job_type: str, state: str, subject: str, happened: str
) -> None:
    email = render_email(job_type, payload(state=state), message_id="job-1")

    assert email.subject == subject
    assert happened in email.text
    assert f"Escrow: {ESCROW_ID}" in email.text
    assert "Amount: 1,250.00 EUR" in email.text
    assert f"State: {state}" in email.text
    assert email.to == ("buyer@example.com", "seller@example.com")
    assert email.html is None


@pytest.mark.parametrize(
    ("resolution", "outcome"),
    [("release", "released to the seller"), ("refund", "refunded to the buyer")],
)
def test_the_resolution_email_says_which_way_it_went_and_why(resolution: str, outcome: str) -> None:
    email = render_email(
        "notify_dispute_resolved",
        payload(resolution=resolution, note="The carrier confirmed delivery."),
        message_id="job-2",
    )

    assert email.subject == f"Dispute resolved: 1,250.00 EUR {outcome}"
    assert f"the funds are {outcome}." in email.text
    assert "Note:\nThe carrier confirmed delivery." in email.text


def test_the_message_id_is_the_one_given() -> None:
    assert render_email("send_release_email", payload(), "job-abc").message_id == "job-abc"
