"""`Payments` on Stripe: the escrow's payment is a PaymentIntent authorised with manual capture.

Release captures the held amount; refund cancels the authorisation while it is still held (no
money moved yet) or refunds a payment that was already captured. Every write carries the job's
idempotency key, so a retried job never moves money twice; Stripe keeps those keys for a day, so
each write is also preceded by a read of the intent, and an effect already in place is reported
as replayed instead of being attempted again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, NoReturn

from chalicelib.payments.gateway import (
    PaymentReceipt,
    PaymentRejectedError,
    PaymentsNotConfiguredError,
    PaymentUnavailableError,
)
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from stripe import PaymentIntent, StripeClient, StripeError

# The refund's metadata carries its idempotency key, so a repeat after Stripe forgot the key
# still finds the refund it made.
_KEY_METADATA = "longhaul_idempotency_key"


class StripePayments:
    """Captures and refunds through the official `stripe` SDK (imported on first use)."""

    def __init__(self, settings: Settings, *, api_base: str | None = None) -> None:
        if settings.stripe_api_key is None:
            raise PaymentsNotConfiguredError(
                "STRIPE_API_KEY is not set: payments cannot be captured or refunded"
            )
        self._api_key = settings.stripe_api_key
        self._timeout = settings.backend_timeout_seconds
        # Another API base serves Stripe's own mock server or a test double.
        self._api_base = api_base
        self._client: StripeClient | None = None

    def _stripe(self) -> StripeClient:
        if self._client is None:
            import stripe

            self._client = stripe.StripeClient(
                self._api_key.get_secret_value(),
                base_addresses={"api": self._api_base} if self._api_base else {},
                # The job queue retries a failed job with backoff; the SDK should not add its own.
                max_network_retries=0,
                # The SDK's default timeout is 80 s; a job's attempt should fail fast instead.
                http_client=stripe.RequestsClient(timeout=self._timeout),
            )
        return self._client

    def capture(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Capture `amount` of the held intent `payment_id` (once per `idempotency_key`)."""
        import stripe

        try:
            intent = self._intent(payment_id, currency)
            if intent.status == "succeeded":
                return self._receipt(
                    "capture", escrow_id, payment_id, intent.id, amount, currency, replayed=True
                )
            if intent.status != "requires_capture":
                raise PaymentRejectedError(f"payment {payment_id} is {intent.status}: no capture")
            captured = self._stripe().v1.payment_intents.capture(
                payment_id,
                {"amount_to_capture": amount},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise_for(exc)
        return self._receipt("capture", escrow_id, payment_id, captured.id, amount, currency)

    def refund(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Give `amount` of `payment_id` back: cancel a held intent, refund a captured one."""
        import stripe

        try:
            intent = self._intent(payment_id, currency)
            if intent.status == "canceled":
                return self._receipt(
                    "refund", escrow_id, payment_id, intent.id, amount, currency, replayed=True
                )
            if intent.status == "requires_capture":
                canceled = self._stripe().v1.payment_intents.cancel(
                    payment_id, {}, {"idempotency_key": idempotency_key}
                )
                return self._receipt("refund", escrow_id, payment_id, canceled.id, amount, currency)
            if intent.status != "succeeded":
                raise PaymentRejectedError(f"payment {payment_id} is {intent.status}: no refund")
            refunds = self._stripe().v1.refunds
            for earlier in refunds.list({"payment_intent": payment_id, "limit": 100}).data:
                metadata = earlier.metadata.to_dict() if earlier.metadata else {}
                if metadata.get(_KEY_METADATA) == idempotency_key:
                    return self._receipt(
                        "refund", escrow_id, payment_id, earlier.id, amount, currency, replayed=True
                    )
            made = refunds.create(
                {
                    "payment_intent": payment_id,
                    "amount": amount,
                    "metadata": {_KEY_METADATA: idempotency_key, "escrow_id": escrow_id},
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _raise_for(exc)
        return self._receipt("refund", escrow_id, payment_id, made.id, amount, currency)

    def _intent(self, payment_id: str, currency: str) -> PaymentIntent:
        intent = self._stripe().v1.payment_intents.retrieve(payment_id)
        if intent.currency.upper() != currency.upper():
            raise PaymentRejectedError(
                f"payment {payment_id} is in {intent.currency.upper()}, the escrow in {currency}"
            )
        return intent

    @staticmethod
    def _receipt(
        operation: Literal["capture", "refund"],
        escrow_id: str,
        payment_id: str,
        reference: str,
        amount: int,
        currency: str,
        *,
        replayed: bool = False,
    ) -> PaymentReceipt:
        return PaymentReceipt(
            operation=operation,
            escrow_id=escrow_id,
            payment_id=payment_id,
            amount=amount,
            currency=currency.upper(),
            provider="stripe",
            reference=reference,
            replayed=replayed,
        )


def _raise_for(error: StripeError) -> NoReturn:
    """Sort a Stripe error into "try again later" and "will never work"."""
    import stripe

    message = f"{type(error).__name__}: {error.user_message or error}"
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        raise PaymentsNotConfiguredError(message) from error
    transient = isinstance(error, stripe.APIConnectionError | stripe.RateLimitError) or (
        error.http_status is None or error.http_status >= 500 or error.http_status == 409
    )
    if transient:
        raise PaymentUnavailableError(message) from error
    raise PaymentRejectedError(message) from error
