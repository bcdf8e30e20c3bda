"""`Payments` that move no money: each operation is recorded in the app's DynamoDB table.

Used locally and in tests. An operation is one item keyed by its idempotency key, written with
a conditional put, so a repeated capture or refund is recorded once, as Stripe would act once.
Items sit in the escrow's partition (`pk = ESCROW#<id>`, `sk = PAYMENT#<idempotency key>`), so
one Query lists what an escrow's payment did.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from chalicelib.payments.gateway import PaymentReceipt

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_SK_PREFIX = "PAYMENT#"


def _pk(escrow_id: str) -> str:
    return f"ESCROW#{escrow_id}"


class RecordingPayments:
    """Records captures and refunds instead of making them."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def capture(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Record a capture once per `idempotency_key`."""
        return self._record("capture", escrow_id, payment_id, amount, currency, idempotency_key)

    def refund(
        self, escrow_id: str, payment_id: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentReceipt:
        """Record a refund once per `idempotency_key`."""
        return self._record("refund", escrow_id, payment_id, amount, currency, idempotency_key)

    def recorded(self, escrow_id: str) -> list[PaymentReceipt]:
        """Every operation recorded for the escrow, in idempotency key order."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _pk(escrow_id)}, ":prefix": {"S": _SK_PREFIX}},
        )
        return [
            PaymentReceipt(
                operation=item["operation"]["S"],
                escrow_id=escrow_id,
                payment_id=item["paymentId"]["S"],
                amount=int(item["amount"]["N"]),
                currency=item["currency"]["S"],
                provider="recording",
                reference=item["sk"]["S"].removeprefix(_SK_PREFIX),
            )
            for item in response.get("Items", [])
        ]

    def _record(
        self,
        operation: Literal["capture", "refund"],
        escrow_id: str,
        payment_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
    ) -> PaymentReceipt:
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": _pk(escrow_id)},
            "sk": {"S": _SK_PREFIX + idempotency_key},
            "operation": {"S": operation},
            "paymentId": {"S": payment_id},
            "amount": {"N": str(amount)},
            "currency": {"S": currency},
            "recordedAt": {"S": datetime.now(UTC).isoformat()},
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(sk)"
            )
            replayed = False
        except self._client.exceptions.ConditionalCheckFailedException:
            replayed = True
        return PaymentReceipt(
            operation=operation,
            escrow_id=escrow_id,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            provider="recording",
            reference=idempotency_key,
            replayed=replayed,
        )
