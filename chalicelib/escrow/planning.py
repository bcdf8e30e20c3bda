"""Which side-effect jobs each transition of an escrow spawns, and with what payloads.

The plan is a pure function of the escrow's history, so the jobs a transition still owes can be
recomputed at any time: a repeated request enqueues exactly those missing from `escrow.jobs`.
Each job has a dedupe key per escrow and transition (`escrow-<id>-<action>`, scoped by the
queue to the job type), so enqueueing a plan twice enqueues each job once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pydantic import BaseModel, ConfigDict

from chalicelib.escrow.models import Escrow, Transition
from chalicelib.escrow.payloads import (
    AuditPayload,
    EscrowEmailPayload,
    EscrowStatusChanged,
    PaymentPayload,
    WebhookPayload,
)
from chalicelib.jobs.models import JobSpec

SEND_PAYMENT_CONFIRMED_EMAIL: Final = "send_payment_confirmed_email"
SEND_RELEASE_EMAIL: Final = "send_release_email"
SEND_REFUND_EMAIL: Final = "send_refund_email"
SEND_DISPUTE_EMAIL: Final = "send_dispute_email"
NOTIFY_DISPUTE_RESOLVED: Final = "notify_dispute_resolved"
STRIPE_CAPTURE_PAYMENT: Final = "stripe_capture_payment"
STRIPE_REFUND_PAYMENT: Final = "stripe_refund_payment"
WEBHOOK_ESCROW_STATUS_CHANGED: Final = "webhook_escrow_status_changed"
AUDIT_LOG_CREATED: Final = "audit_log_created"

EMAIL_JOB_TYPES: Final = (
    SEND_PAYMENT_CONFIRMED_EMAIL,
    SEND_RELEASE_EMAIL,
    SEND_REFUND_EMAIL,
    SEND_DISPUTE_EMAIL,
    NOTIFY_DISPUTE_RESOLVED,
)
# Emails and webhooks are cheap to repeat and partners may be down for a while; money moves
# are retried as often, each attempt under the same idempotency key.
MAX_ATTEMPTS: Final = 5
# A repeated transition request re-enqueues only the jobs the escrow has not recorded. For as
# long as the queue remembers a dedupe key (its longest window), a job that was enqueued but not
# recorded is found again rather than enqueued, and its effect repeated, a second time.
DEDUPE_WINDOW_SECONDS: Final = 7 * 86_400


class PlannedJob(BaseModel):
    """One side effect a transition owes: its key on the escrow and the job that performs it."""

    model_config = ConfigDict(frozen=True)

    effect: str
    spec: JobSpec


def effect_key(action: str, job_type: str) -> str:
    """The key of a side effect in `Escrow.jobs`: which transition, which job."""
    return f"{action}:{job_type}"


def planned_jobs(escrow: Escrow) -> list[PlannedJob]:
    """Every side effect the escrow's transitions so far call for, in history order.

    The webhook is skipped when the escrow has no partner URL, and the payment jobs when it has
    no payment id: there is nothing to call.
    """
    return [job for sequence in range(len(escrow.transitions)) for job in _jobs(escrow, sequence)]


def missing_jobs(escrow: Escrow) -> list[PlannedJob]:
    """The planned side effects that have no job recorded on the escrow yet."""
    return [job for job in planned_jobs(escrow) if job.effect not in escrow.jobs]


def _jobs(escrow: Escrow, sequence: int) -> Iterator[PlannedJob]:
    change = escrow.transitions[sequence]
    dedupe_key = f"escrow-{escrow.escrow_id}-{change.action}"

    def planned(job_type: str, payload: BaseModel) -> PlannedJob:
        return PlannedJob(
            effect=effect_key(change.action, job_type),
            spec=JobSpec(
                job_type=job_type,
                payload=payload.model_dump(mode="json", by_alias=True),
                dedupe_key=dedupe_key,
                dedupe_window=DEDUPE_WINDOW_SECONDS,
                max_attempts=MAX_ATTEMPTS,
            ),
        )

    if change.action == "create":
        yield planned(SEND_PAYMENT_CONFIRMED_EMAIL, _email(escrow, change))
    elif change.action == "dispute":
        yield planned(SEND_DISPUTE_EMAIL, _email(escrow, change))
    else:  # release, refund, or resolve (which ends as a release or a refund)
        if change.action == "resolve":
            yield planned(NOTIFY_DISPUTE_RESOLVED, _email(escrow, change))
        released = change.state == "released"
        yield planned(SEND_RELEASE_EMAIL if released else SEND_REFUND_EMAIL, _email(escrow, change))
        if escrow.payment_id is not None:
            operation = "capture" if released else "refund"
            yield planned(
                STRIPE_CAPTURE_PAYMENT if released else STRIPE_REFUND_PAYMENT,
                PaymentPayload(
                    escrow_id=escrow.escrow_id,
                    payment_id=escrow.payment_id,
                    amount=escrow.amount,
                    currency=escrow.currency,
                    idempotency_key=f"escrow-{escrow.escrow_id}-{operation}",
                ),
            )
    if change.action != "create" and escrow.partner_webhook_url is not None:
        yield planned(
            WEBHOOK_ESCROW_STATUS_CHANGED,
            WebhookPayload(url=escrow.partner_webhook_url, event=_event(escrow, sequence)),
        )
    yield planned(
        AUDIT_LOG_CREATED,
        AuditPayload(
            escrow_id=escrow.escrow_id,
            sequence=sequence,
            action=change.action,
            state=change.state,
            at=change.at,
            amount=escrow.amount,
            currency=escrow.currency,
            note=change.note,
        ),
    )


def _email(escrow: Escrow, change: Transition) -> EscrowEmailPayload:
    return EscrowEmailPayload(
        escrow_id=escrow.escrow_id,
        amount=escrow.amount,
        currency=escrow.currency,
        recipients=(escrow.buyer_email, escrow.seller_email),
        state=change.state,
        occurred_at=change.at,
        note=change.note,
        resolution=(
            ("release" if change.state == "released" else "refund")
            if change.action == "resolve"
            else None
        ),
    )


def _event(escrow: Escrow, sequence: int) -> EscrowStatusChanged:
    change = escrow.transitions[sequence]
    return EscrowStatusChanged(
        event_id=f"evt_{escrow.escrow_id}_{sequence}",
        escrow_id=escrow.escrow_id,
        action=change.action,
        state=change.state,
        previous_state=escrow.transitions[sequence - 1].state if sequence else None,
        amount=escrow.amount,
        currency=escrow.currency,
        occurred_at=change.at,
        note=change.note,
    )
