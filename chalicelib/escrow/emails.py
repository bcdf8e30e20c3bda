"""The plain-text emails the escrow jobs send: one per kind of transition."""

from __future__ import annotations

# One way to show money across the app's emails: billing's.
from chalicelib.billing.rendering import format_amount
from chalicelib.escrow.payloads import EscrowEmailPayload
from chalicelib.escrow.planning import (
    NOTIFY_DISPUTE_RESOLVED,
    SEND_DISPUTE_EMAIL,
    SEND_PAYMENT_CONFIRMED_EMAIL,
    SEND_REFUND_EMAIL,
    SEND_RELEASE_EMAIL,
)
from chalicelib.mail.messages import OutgoingEmail

# job type -> (subject, what happened), each formatted with the amount and the escrow id.
_TEXTS = {
    SEND_PAYMENT_CONFIRMED_EMAIL: (
        "Payment confirmed: {amount} held in escrow",
        "The payment of {amount} has been confirmed and is held in escrow {escrow_id}.\n"
        "It will be released to the seller once the buyer confirms, or refunded to the buyer.",
    ),
    SEND_RELEASE_EMAIL: (
        "Escrow released: {amount} paid to the seller",
        "The {amount} held in escrow {escrow_id} has been released to the seller.",
    ),
    SEND_REFUND_EMAIL: (
        "Escrow refunded: {amount} returned to the buyer",
        "The {amount} held in escrow {escrow_id} has been refunded to the buyer.",
    ),
    SEND_DISPUTE_EMAIL: (
        "Escrow disputed: {amount} on hold",
        "Escrow {escrow_id} ({amount}) has been disputed. The funds stay on hold until the "
        "dispute is resolved.",
    ),
    NOTIFY_DISPUTE_RESOLVED: (
        "Dispute resolved: {amount} {outcome}",
        "The dispute over escrow {escrow_id} ({amount}) has been resolved: the funds are "
        "{outcome}.",
    ),
}
_OUTCOMES = {"release": "released to the seller", "refund": "refunded to the buyer"}


def render_email(job_type: str, payload: EscrowEmailPayload, message_id: str) -> OutgoingEmail:
    """The email the job `job_type` sends about `payload`'s transition.

    `message_id` becomes the Message-ID, so a receiving system recognises a resend.
    """
    subject, happened = _TEXTS[job_type]
    values = {
        "amount": format_amount(payload.amount, payload.currency),
        "escrow_id": payload.escrow_id,
        "outcome": _OUTCOMES.get(payload.resolution or "", ""),
    }
    lines = [happened.format(**values), ""]
    if payload.note:
        lines += ["Note:", payload.note, ""]
    lines += [
        f"Escrow: {payload.escrow_id}",
        f"Amount: {values['amount']}",
        f"State: {payload.state}",
        f"When: {payload.occurred_at.isoformat()}",
    ]
    return OutgoingEmail(
        to=payload.recipients,
        subject=subject.format(**values),
        text="\n".join(lines) + "\n",
        message_id=message_id,
    )
