"""`DynamoDBOrderStore` on a client that answers as DynamoDB does to a request it can never take
(the local stack's DynamoDB accepts numbers real DynamoDB refuses, so a fake client stands in)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.checkout.dynamodb_store import DynamoDBOrderStore
from chalicelib.checkout.models import CheckoutRequest, Order
from chalicelib.checkout.store import UnstorableOrderError


class AnsweringDynamoDB:
    """Answers every transaction with one DynamoDB error code."""

    def __init__(self, code: str) -> None:
        # The real client's exception classes (building a client touches no network).
        self.exceptions = boto3.client("dynamodb", region_name="us-east-1").exceptions
        self.code = code

    def transact_write_items(self, **request: Any) -> None:
        raise ClientError(
            {"Error": {"Code": self.code, "Message": "Number overflow"}}, "TransactWriteItems"
        )


def _order() -> Order:
    request = CheckoutRequest.model_validate(
        {
            "customer": {"customerId": "c", "email": "a@example.com", "name": "A"},
            "items": [{"productId": "beans", "quantity": 1, "price": 1000}],
            "paymentId": "p",
        }
    )
    return Order.accepted(
        request.command("a" * 32), correlation_id="corr", now=datetime(2026, 3, 1, tzinfo=UTC)
    ).model_copy(update={"status": "confirmed"})


def _store(code: str) -> DynamoDBOrderStore:
    return DynamoDBOrderStore(AnsweringDynamoDB(code), "table")  # type: ignore[arg-type]


def test_a_validation_error_is_permanent_whether_placing_or_rejecting() -> None:
    store = _store("ValidationException")
    with pytest.raises(UnstorableOrderError, match="Number overflow") as placing:
        store.place(_order())
    assert placing.value.order_id == "a" * 32
    with pytest.raises(UnstorableOrderError):
        store.reject(_order().model_copy(update={"status": "rejected"}))


def test_a_throttle_is_left_to_retry_as_it_is() -> None:
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        _store("ProvisionedThroughputExceededException").place(_order())
