"""The payments interface the escrow jobs use, its outcomes, and the choice of implementation."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from chalicelib.settings import Settings


class PaymentsNotConfiguredError(RuntimeError):
    """The implementation lacks what it needs to run (such as an API key): retrying cannot help."""


class PaymentRejectedError(RuntimeError):
    """The provider refused the operation for good (unknown payment, wrong state, bad amount)."""


class PaymentUnavailableError(RuntimeError):
    """The provider could not be reached or asked to try later: worth retrying."""


class PaymentReceipt(BaseModel):
    """What one capture or refund did, as the provider reports it."""

    model_config = ConfigDict(frozen=True)

    operation: Literal["capture", "refund"]
    escrow_id: str
    payment_id: str
    amount: int
    currency: str
    provider: Literal["stripe", "recording"]
    reference: str
    replayed: bool = False


class Payments(Protocol):
    """Captures and refunds; the same `idempotency_key` never moves money twice."""

    def capture(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Capture `amount` (minor units) of the held payment `payment_id`."""
        ...

    def refund(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Give `amount` (minor units) of the payment `payment_id` back to the buyer."""
        ...


def payments(settings: Settings) -> Payments:
    """The implementation `settings.payments` names: Stripe, or the recording one."""
    if settings.payments == "stripe":
        from chalicelib.payments.stripe_payments import StripePayments

        return StripePayments(settings)
    from chalicelib.dynamodb import dynamodb_client
    from chalicelib.payments.recording_payments import RecordingPayments

    return RecordingPayments(dynamodb_client(settings), settings.longhaul_table)
