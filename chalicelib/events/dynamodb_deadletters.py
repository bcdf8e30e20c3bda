"""`DeadLetterStore` on DynamoDB, in the app's single table.

Each dead letter is two items written in one transaction: `pk = DEADLETTER#<id>, sk = META`
(read by id, and the item whose condition makes a repeated callback record once) and a copy in
the listing partition `pk = DEADLETTERS, sk = <recorded at>.<id>`, so the admin listing is one
Query, newest first. Dead letters are rare, so one partition for the listing is no hot spot.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.events.deadletters import AlreadyReplayedError, DeadLetter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    from chalicelib.settings import Settings

LISTING_PK = "DEADLETTERS"
DEFAULT_RETENTION = timedelta(days=30)


def _record_key(dead_letter_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"DEADLETTER#{dead_letter_id}"}, "sk": {"S": "META"}}


def _listing_key(record: DeadLetter) -> dict[str, AttributeValueTypeDef]:
    # Also the page cursor, URL-safe as it is (see `CURSOR_PATTERN`).
    sort = f"{record.recorded_at:%Y%m%dT%H%M%S.%fZ}.{record.dead_letter_id}"
    return {"pk": {"S": LISTING_PK}, "sk": {"S": sort}}


def _from_item(item: Mapping[str, Any]) -> DeadLetter:
    return DeadLetter.model_validate_json(item["record"]["S"])


def _canceled_by_condition(error: Exception) -> bool:
    reasons = getattr(error, "response", {}).get("CancellationReasons", [])
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)


class DynamoDBDeadLetterStore:
    """The production store (boto3's low-level client, transactional conditional writes)."""

    def __init__(
        self, client: DynamoDBClient, table: str, *, retention: timedelta = DEFAULT_RETENTION
    ) -> None:
        self._client = client
        self._table = table
        self._retention = retention

    def _puts(
        self, record: DeadLetter, condition: str, values: dict[str, Any] | None = None
    ) -> list[Any]:
        attributes: dict[str, AttributeValueTypeDef] = {
            "record": {"S": record.model_dump_json(by_alias=True)},
            "deadLetterStatus": {"S": record.status},
            "expiresAt": {"N": str(int((record.recorded_at + self._retention).timestamp()))},
        }
        record_put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**_record_key(record.dead_letter_id), **attributes},
            "ConditionExpression": condition,
        }
        if values:
            record_put["ExpressionAttributeValues"] = values
        listing_put = {"TableName": self._table, "Item": {**_listing_key(record), **attributes}}
        return [{"Put": record_put}, {"Put": listing_put}]

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> bool:
        """Write `items` together; False when the record item's condition failed."""
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as exc:
            if _canceled_by_condition(exc):
                return False
            raise
        return True

    def add(self, record: DeadLetter) -> tuple[DeadLetter, bool]:
        """Write both items unless the id exists; the stored record and whether it was new."""
        if self._transact(self._puts(record, "attribute_not_exists(pk)")):
            return record, True
        existing = self.get(record.dead_letter_id)
        if existing is None:  # only if it expired between the two calls
            raise RuntimeError(f"dead letter {record.dead_letter_id} vanished")
        return existing, False

    def get(self, dead_letter_id: str) -> DeadLetter | None:
        """The dead letter, from one strongly consistent read."""
        item = self._client.get_item(
            TableName=self._table, Key=_record_key(dead_letter_id), ConsistentRead=True
        ).get("Item")
        return None if item is None else _from_item(item)

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[DeadLetter], str | None]:
        """Up to `limit` dead letters, newest first, after the listing key `cursor`."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": LISTING_PK}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor is not None:
            request["ExclusiveStartKey"] = {"pk": {"S": LISTING_PK}, "sk": {"S": cursor}}
        response = self._client.query(**request)
        records = [_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return records, (str(last["sk"]["S"]) if last else None)

    def mark_replayed(self, record: DeadLetter, *, message_id: str, now: datetime) -> DeadLetter:
        """Rewrite both items as replayed, on condition that the record is still `recorded`."""
        replayed = record.model_copy(
            update={"status": "replayed", "replayed_at": now, "replay_message_id": message_id}
        )
        condition = "deadLetterStatus = :recorded"
        if self._transact(self._puts(replayed, condition, {":recorded": {"S": "recorded"}})):
            return replayed
        current = self.get(record.dead_letter_id)
        raise AlreadyReplayedError(current or replayed)


def dead_letter_store(settings: Settings) -> DynamoDBDeadLetterStore:
    """The store in `settings`' table."""
    from chalicelib.dynamodb import dynamodb_client

    return DynamoDBDeadLetterStore(dynamodb_client(settings), settings.longhaul_table)
