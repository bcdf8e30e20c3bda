"""`FakePayments`: the `Payments` protocol in memory, acting once per idempotency key.

`fail_next` makes the next calls raise the given exceptions in order (to exercise the job
handler's sorting of transient and permanent failures).
"""

from __future__ import annotations

from typing import Literal

from chalicelib.payments.gateway import PaymentReceipt


class FakePayments:
    """Keeps one receipt per idempotency key, as a provider would act once."""

    def __init__(self) -> None:
        self.receipts: dict[str, PaymentReceipt] = {}
        self.calls = 0
        self.fail_next: list[Exception] = []

    def capture(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Capture once per key; a repeat answers the first receipt, marked replayed."""
        return self._act("capture", escrow_id, payment_id, amount, currency, idempotency_key)

    def refund(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Refund once per key; a repeat answers the first receipt, marked replayed."""
        return self._act("refund", escrow_id, payment_id, amount, currency, idempotency_key)

    def _act(
        self,
        operation: Literal["capture", "refund"],
        escrow_id: str,
        payment_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
    ) -> PaymentReceipt:
        self.calls += 1
        if self.fail_next:
            raise self.fail_next.pop(0)
        earlier = self.receipts.get(idempotency_key)
        if earlier is not None:
            return earlier.model_copy(update={"replayed": True})
        receipt = PaymentReceipt(
            operation=operation,
            escrow_id=escrow_id,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            provider="recording",
            reference=idempotency_key,
        )
        self.receipts[idempotency_key] = receipt
        return receipt
