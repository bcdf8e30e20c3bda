"""The recording payments implementation on the local stack's DynamoDB: once per key."""

from __future__ import annotations

import uuid

from chalicelib.dynamodb import dynamodb_client
from chalicelib.payments.recording_payments import RecordingPayments
from chalicelib.settings import get_settings
from devstack.stack import LocalStack


def test_each_operation_is_recorded_once_per_idempotency_key(local_stack: LocalStack) -> None:
    get_settings.cache_clear()
    settings = get_settings()
    payments = RecordingPayments(dynamodb_client(settings), settings.longhaul_table)
    escrow_id = uuid.uuid4().hex
    key = f"escrow-{escrow_id}-capture"

    first = payments.capture(escrow_id, "pi_1", 700, "USD", key)
    again = payments.capture(escrow_id, "pi_1", 700, "USD", key)
    refund = payments.refund(escrow_id, "pi_1", 700, "USD", f"escrow-{escrow_id}-refund")

    assert (first.replayed, again.replayed, refund.replayed) == (False, True, False)
    recorded = payments.recorded(escrow_id)
    assert [(r.operation, r.amount, r.currency, r.reference) for r in recorded] == [
        ("capture", 700, "USD", key),
        ("refund", 700, "USD", f"escrow-{escrow_id}-refund"),
    ]
