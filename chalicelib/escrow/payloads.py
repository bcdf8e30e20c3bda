"""The payload of each escrow side-effect job, as enqueued and as its handler reads it back.

Each payload carries everything its job needs, taken from the escrow when the transition was
made, so a job never reads the escrow again and runs the same however late it runs.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chalicelib.escrow.models import Action, EscrowState, Resolution


class _Payload(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )


class EscrowEmailPayload(_Payload):
    """An email to the escrow's parties about one transition (the job type picks the text)."""

    escrow_id: str
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    recipients: tuple[str, ...] = Field(min_length=1)
    state: EscrowState
    occurred_at: datetime
    note: str | None = None
    resolution: Resolution | None = None


class PaymentPayload(_Payload):
    """A capture or a refund of the escrow's payment."""

    escrow_id: str
    payment_id: str
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    # Derived from the escrow and the operation, not the job: a job enqueued again after its
    # dedupe window still cannot move money twice.
    idempotency_key: str


class EscrowStatusChanged(_Payload):
    """The event a partner receives, as JSON, when an escrow changes state."""

    # Stable per transition: a partner that sees the same id twice has seen a redelivery.
    event_id: str
    type: str = "escrow.status_changed"
    escrow_id: str
    action: Action
    state: EscrowState
    previous_state: EscrowState | None
    amount: int
    currency: str
    occurred_at: datetime
    note: str | None = None


class WebhookPayload(_Payload):
    """POST `event` to the partner's `url`, signed."""

    url: str = Field(pattern=r"^https?://")
    event: EscrowStatusChanged


class AuditPayload(_Payload):
    """One audit log entry: the `sequence`-th transition of the escrow."""

    escrow_id: str
    sequence: int = Field(ge=0)
    action: Action
    state: EscrowState
    at: datetime
    amount: int
    currency: str
    note: str | None = None
