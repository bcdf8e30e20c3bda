"""The nine escrow side-effect jobs, registered on the job queue's default registry.

Each handler builds its collaborators from the settings and calls a function of this module
that takes them as arguments (what the unit tests call with fakes). Failures are sorted for
the queue: a `PermanentJobError` dead-letters the job at once (a refusal or missing setting no
retry can fix); any other exception is retried with backoff. Every external effect is
idempotent on its own too: emails carry a Message-ID made from the job id, payments an
idempotency key per escrow and operation, webhooks a stable event id, and audit entries a key
per escrow and transition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from chalicelib.escrow.emails import render_email
from chalicelib.escrow.partner_webhooks import PartnerRejectedError, deliver
from chalicelib.escrow.payloads import (
    AuditPayload,
    EscrowEmailPayload,
    PaymentPayload,
    WebhookPayload,
)
from chalicelib.escrow.planning import (
    AUDIT_LOG_CREATED,
    EMAIL_JOB_TYPES,
    STRIPE_CAPTURE_PAYMENT,
    STRIPE_REFUND_PAYMENT,
    WEBHOOK_ESCROW_STATUS_CHANGED,
)
from chalicelib.escrow.store import AuditEntry, EscrowStore
from chalicelib.jobs.models import JobContext
from chalicelib.jobs.registry import PermanentJobError, registry
from chalicelib.mail.sender import Mailer
from chalicelib.payments.gateway import (
    PaymentRejectedError,
    Payments,
    PaymentsNotConfiguredError,
)

Result = dict[str, Any]
# One signed delivery attempt (`partner_webhooks.deliver`'s signature): the partner's status.
Deliver = Callable[..., int]


def send_escrow_email(
    job_type: str, payload: EscrowEmailPayload, job: JobContext, mailer: Mailer
) -> Result:
    """Render and send the email `job_type` sends; `MailSendError` propagates (a retry)."""
    email = render_email(job_type, payload, message_id=f"job-{job.job_id}")
    mailer.send(email)
    return {"to": list(email.to), "subject": email.subject, "messageId": email.message_id}


def move_payment(
    operation: Literal["capture", "refund"], payload: PaymentPayload, payments: Payments
) -> Result:
    """Capture or refund the escrow's payment under the payload's idempotency key."""
    act = payments.capture if operation == "capture" else payments.refund
    try:
        receipt = act(
            payload.escrow_id,
            payload.payment_id,
            payload.amount,
            payload.currency,
            payload.idempotency_key,
        )
    except (PaymentRejectedError, PaymentsNotConfiguredError) as exc:
        raise PermanentJobError(str(exc)) from exc
    return receipt.model_dump(mode="json", by_alias=True)


def notify_partner(
    payload: WebhookPayload,
    *,
    secret: str | None,
    timeout: float,
    now: Callable[[], float] = time.time,
    post: Deliver = deliver,
) -> Result:
    """POST the event to the partner, signed at `now()`; a refusal is permanent, an outage is
    retried (each attempt is signed afresh, with the same event id)."""
    if secret is None:
        raise PermanentJobError("WEBHOOK_SIGNING_SECRET is not set: partner webhooks are unsigned")
    body = payload.event.model_dump_json(by_alias=True).encode("utf-8")
    try:
        status = post(
            payload.url,
            event_id=payload.event.event_id,
            body=body,
            secret=secret,
            timestamp=int(now()),
            timeout=timeout,
        )
    except PartnerRejectedError as exc:
        raise PermanentJobError(str(exc)) from exc
    return {"eventId": payload.event.event_id, "status": status}


def write_audit(payload: AuditPayload, job: JobContext, store: EscrowStore) -> Result:
    """Write the audit entry under its deterministic key (a repeat overwrites it)."""
    entry = AuditEntry(
        escrow_id=payload.escrow_id,
        sequence=payload.sequence,
        action=payload.action,
        state=payload.state,
        at=payload.at,
        amount=payload.amount,
        currency=payload.currency,
        note=payload.note,
        job_id=job.job_id,
    )
    store.put_audit(entry)
    return {"escrowId": entry.escrow_id, "sequence": entry.sequence}


# -- the registered handlers: collaborators from the settings ---------------------------------


def _email_handler(job_type: str) -> Callable[[EscrowEmailPayload, JobContext], Result]:
    def handle(payload: EscrowEmailPayload, job: JobContext) -> Result:
        from chalicelib.mail.sender import MailNotConfiguredError, mailer
        from chalicelib.settings import get_settings

        try:
            sender = mailer(get_settings())
        except MailNotConfiguredError as exc:
            raise PermanentJobError(str(exc)) from exc
        return send_escrow_email(job_type, payload, job, sender)

    return handle


for _job_type in EMAIL_JOB_TYPES:
    registry.handler(_job_type, EscrowEmailPayload)(_email_handler(_job_type))


def _payments() -> Payments:
    from chalicelib.payments.gateway import payments
    from chalicelib.settings import get_settings

    try:
        return payments(get_settings())
    except PaymentsNotConfiguredError as exc:
        raise PermanentJobError(str(exc)) from exc


@registry.handler(STRIPE_CAPTURE_PAYMENT, PaymentPayload)
def stripe_capture_payment(payload: PaymentPayload, job: JobContext) -> Result:
    """Capture the held payment of a released escrow."""
    return move_payment("capture", payload, _payments())


@registry.handler(STRIPE_REFUND_PAYMENT, PaymentPayload)
def stripe_refund_payment(payload: PaymentPayload, job: JobContext) -> Result:
    """Give the payment of a refunded escrow back to the buyer."""
    return move_payment("refund", payload, _payments())


@registry.handler(WEBHOOK_ESCROW_STATUS_CHANGED, WebhookPayload)
def webhook_escrow_status_changed(payload: WebhookPayload, job: JobContext) -> Result:
    """Tell the escrow's partner about a change of state, signed."""
    from chalicelib.settings import get_settings

    settings = get_settings()
    secret = settings.webhook_signing_secret
    return notify_partner(
        payload,
        secret=None if secret is None else secret.get_secret_value(),
        timeout=settings.backend_timeout_seconds,
    )


@registry.handler(AUDIT_LOG_CREATED, AuditPayload)
def audit_log_created(payload: AuditPayload, job: JobContext) -> Result:
    """Write the escrow's audit entry for one transition."""
    from chalicelib.escrow.runtime import escrow_store
    from chalicelib.settings import get_settings

    return write_audit(payload, job, escrow_store(get_settings()))
