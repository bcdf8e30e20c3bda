"""`OrderStore` on DynamoDB, in the application's single table.

Keys: an order is `pk = ORDER#<id>` with `sk = ACCEPTED` (the pending order, as the API took
it), `sk = META` (the decided order) and `sk = ITEM#<nnn>` (one per line); a product is
`pk = PRODUCT#<id>, sk = META`; an audit record `pk = AUDIT#<entity>#<id>, sk = EVENT#<event id>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.checkout.models import AuditRecord, Order, Product
from chalicelib.checkout.store import (
    NotAcceptedError,
    OrderExistsError,
    OutOfStockError,
    UnstorableOrderError,
)
from chalicelib.dynamodb import number_value, string_value
from chalicelib.events.payloads import CheckoutItem, Customer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = Mapping[str, Any]
Key = dict[str, "AttributeValueTypeDef"]

ACCEPTED = "ACCEPTED"
META = "META"
ITEM_PREFIX = "ITEM#"
AUDIT_EVENT_PREFIX = "EVENT#"
CONDITION_FAILED = "ConditionalCheckFailed"
# DynamoDB's answer to a request it can never accept (a number beyond 38 digits, an item over
# 400 KB): unlike a throttle or a conflict, sending it again cannot succeed.
VALIDATION_FAILED = "ValidationException"


def _key(pk: str, sk: str) -> Key:
    return {"pk": string_value(pk), "sk": string_value(sk)}


def _order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def _product_key(product_id: str) -> Key:
    return _key(f"PRODUCT#{product_id}", META)


def _audit_pk(entity: str, entity_id: str) -> str:
    return f"AUDIT#{entity}#{entity_id}"


def _order_meta(order: Order) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        **_key(_order_pk(order.order_id), META),
        "orderId": string_value(order.order_id),
        "status": string_value(order.status),
        "customer": string_value(order.customer.model_dump_json(by_alias=True)),
        "total": number_value(order.total),
        "currency": string_value(order.currency),
        "paymentId": string_value(order.payment_id),
        "correlationId": string_value(order.correlation_id),
        "acceptedAt": string_value(order.accepted_at.isoformat()),
        "itemCount": number_value(len(order.items)),
    }
    if order.reason is not None:
        item["reason"] = string_value(order.reason)
    if order.decided_at is not None:
        item["decidedAt"] = string_value(order.decided_at.isoformat())
    return item


def _line_item(order_id: str, number: int, line: CheckoutItem) -> dict[str, AttributeValueTypeDef]:
    return {
        **_key(_order_pk(order_id), f"{ITEM_PREFIX}{number:03d}"),
        "productId": string_value(line.product_id),
        "quantity": number_value(line.quantity),
        "price": number_value(line.price),
    }


def _order_from_items(items: Sequence[Item]) -> Order | None:
    by_sk = {str(item["sk"]["S"]): item for item in items}
    meta = by_sk.get(META)
    if meta is None:
        accepted = by_sk.get(ACCEPTED)
        return None if accepted is None else Order.model_validate_json(accepted["order"]["S"])
    lines = [
        CheckoutItem(
            product_id=item["productId"]["S"],
            quantity=int(item["quantity"]["N"]),
            price=int(item["price"]["N"]),
        )
        for sk, item in sorted(by_sk.items())
        if sk.startswith(ITEM_PREFIX)
    ]
    optional = {
        field: meta[attribute]["S"]
        for field, attribute in (
            ("reason", "reason"),
            ("decided_at", "decidedAt"),
            ("emailed_at", "emailedAt"),
        )
        if attribute in meta
    }
    return Order(
        order_id=meta["orderId"]["S"],
        status=meta["status"]["S"],
        customer=Customer.model_validate_json(meta["customer"]["S"]),
        items=lines,
        total=int(meta["total"]["N"]),
        currency=meta["currency"]["S"],
        payment_id=meta["paymentId"]["S"],
        correlation_id=meta["correlationId"]["S"],
        accepted_at=meta["acceptedAt"]["S"],
        **optional,
    )


def _product_from_item(item: Item) -> Product:
    return Product(
        product_id=item["productId"]["S"],
        name=item["name"]["S"],
        price=int(item["price"]["N"]),
        stock=int(item["stock"]["N"]),
    )


def _product_item(product: Product) -> dict[str, AttributeValueTypeDef]:
    return {
        **_product_key(product.product_id),
        "productId": string_value(product.product_id),
        "name": string_value(product.name),
        "price": number_value(product.price),
        "stock": number_value(product.stock),
    }


class DynamoDBOrderStore:
    """The production store: conditional writes and TransactWriteItems on boto3's client."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def accept(self, order: Order) -> None:
        """Record the pending order under `sk = ACCEPTED`, once."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **_key(_order_pk(order.order_id), ACCEPTED),
                    "order": string_value(order.model_dump_json(by_alias=True)),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise OrderExistsError(order.order_id) from exc

    def withdraw(self, order_id: str) -> Order | None:
        """Delete the acceptance; the order if it was decided before that."""
        self._client.delete_item(TableName=self._table, Key=_key(_order_pk(order_id), ACCEPTED))
        # Deciding checks the acceptance inside its transaction, so after the delete the order
        # is either decided already (and stays) or can never be.
        return self.get(order_id)

    def _decide(self, order: Order, stock_updates: list[TransactWriteItemTypeDef]) -> None:
        from botocore.exceptions import ClientError

        pk = _order_pk(order.order_id)
        lines: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self._table, "Item": _line_item(order.order_id, n, line)}}
            for n, line in enumerate(order.items, start=1)
        ]
        writes: list[TransactWriteItemTypeDef] = [
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": _key(pk, ACCEPTED),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _order_meta(order),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *lines,
            *stock_updates,
        ]
        try:
            self._client.transact_write_items(TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failed = [reason.get("Code") == CONDITION_FAILED for reason in reasons]
            if len(failed) != len(writes):
                raise  # a conflict or a throttle, not a condition: worth retrying as is
            if failed[1]:
                raise OrderExistsError(order.order_id) from exc
            if failed[0]:
                raise NotAcceptedError(order.order_id) from exc
            first_stock = len(writes) - len(stock_updates)
            short: list[tuple[str, Item | None]] = [
                (line.product_id, reasons[first_stock + index].get("Item"))
                for index, line in enumerate(order.items)
                if failed[first_stock + index]
            ]
            if not short:
                raise
            raise OutOfStockError(
                [product_id for product_id, _ in short],
                {
                    product_id: int(item["stock"]["N"])
                    for product_id, item in short
                    if item and "stock" in item
                },
            ) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != VALIDATION_FAILED:
                raise
            raise UnstorableOrderError(order.order_id, error.get("Message", "")) from exc

    def place(self, order: Order) -> list[Product]:
        """Order, lines and every stock decrement (only where `stock >= quantity`) at once."""
        self._decide(
            order,
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _product_key(line.product_id),
                        "UpdateExpression": "SET stock = stock - :quantity",
                        "ConditionExpression": "attribute_exists(pk) AND stock >= :quantity",
                        "ExpressionAttributeValues": {":quantity": number_value(line.quantity)},
                        # The stock seen names how short a product is in the rejection.
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
                for line in order.items
            ],
        )
        products = (self.get_product(line.product_id) for line in order.items)
        return [product for product in products if product is not None]

    def reject(self, order: Order) -> None:
        """The rejected order and its lines, in one transaction."""
        self._decide(order, [])

    def mark_emailed(self, order_id: str, *, now: datetime) -> bool:
        """`emailed` (with the time of the first email) for a confirmed order; for a rejected
        one only the time."""
        values = {":now": string_value(now.isoformat())}
        attempts: list[tuple[str, str, dict[str, AttributeValueTypeDef]]] = [
            (
                "SET #status = :emailed, emailedAt = if_not_exists(emailedAt, :now)",
                "#status IN (:confirmed, :emailed)",
                {":emailed": string_value("emailed"), ":confirmed": string_value("confirmed")},
            ),
            (
                "SET emailedAt = if_not_exists(emailedAt, :now)",
                "#status = :rejected",
                {":rejected": string_value("rejected")},
            ),
        ]
        for update, condition, extra in attempts:
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=_key(_order_pk(order_id), META),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={**values, **extra},
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                continue
            return True
        return False

    def get(self, order_id: str) -> Order | None:
        """One consistent Query of the order's partition."""
        items: list[Item] = []
        request: dict[str, Any] = {}
        while True:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": string_value(_order_pk(order_id))},
                ConsistentRead=True,
                **request,
            )
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return _order_from_items(items)
            request["ExclusiveStartKey"] = last

    def put_product(self, product: Product) -> None:
        """Create or replace the product."""
        self._client.put_item(TableName=self._table, Item=_product_item(product))

    def add_product(self, product: Product) -> bool:
        """Create the product unless it exists."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_product_item(product),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_product(self, product_id: str) -> Product | None:
        """The product, read consistently (stock moves)."""
        item = self._client.get_item(
            TableName=self._table, Key=_product_key(product_id), ConsistentRead=True
        ).get("Item")
        return None if item is None else _product_from_item(item)

    def record_audit(self, record: AuditRecord) -> None:
        """Put the record under its event id."""
        self._client.put_item(
            TableName=self._table,
            Item={
                **_key(
                    _audit_pk(record.entity, record.entity_id),
                    AUDIT_EVENT_PREFIX + record.event_id,
                ),
                "record": string_value(record.model_dump_json(by_alias=True)),
            },
        )

    def audit_records(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """The entity's records, in event id order."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": string_value(_audit_pk(entity, entity_id)),
                ":prefix": string_value(AUDIT_EVENT_PREFIX),
            },
        )
        return [
            AuditRecord.model_validate_json(item["record"]["S"])
            for item in response.get("Items", [])
        ]
