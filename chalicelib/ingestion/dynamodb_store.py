"""`ConversationStore` on DynamoDB, in the application's single table.

Keys (`pk = CONVERSATION#<conversation id>`):
- a message: `sk = MESSAGE#<timestamp, 13 digits>#<mid>`, so a Query returns messages in order;
- a guard per message, `pk = INSTAGRAM_MID#<mid>`, `sk = GUARD`, written in the same transaction
  as the message, each only if absent: a mid is stored once even if a redelivery carried a
  different timestamp;
- a receipt: `sk = RECEIPT#read#<reader>#<mid>` or `RECEIPT#delivery#<reader>#<watermark>`;
- a reaction: `sk = REACTION#<mid>#<reactor>`, replaced only by a later event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib.dynamodb import number_value, string_value
from chalicelib.ingestion.payload import Attachment
from chalicelib.ingestion.store import (
    StoredMessage,
    StoredReaction,
    StoredReceipt,
    StoreUnavailableError,
    UnstorableRecordError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = Mapping[str, Any]

MESSAGE_PREFIX = "MESSAGE#"
RECEIPT_PREFIX = "RECEIPT#"
REACTION_PREFIX = "REACTION#"
GUARD = "GUARD"
_ABSENT = "attribute_not_exists(pk)"
# DynamoDB's answer to a request it can never accept (an item over 400 KB, a key too long).
VALIDATION_FAILED = "ValidationException"


def _pk(conversation_id: str) -> str:
    return f"CONVERSATION#{conversation_id}"


def _with_optional(item: dict[str, Any], **optional: str | None) -> dict[str, Any]:
    # DynamoDB has no use for a null attribute: an absent one reads back as None.
    return {**item, **{name: {"S": value} for name, value in optional.items() if value is not None}}


def _text(item: Item, name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value["S"])


def message_sort_key(timestamp: int, mid: str) -> str:
    """The message's sort key: its time first, so a conversation reads back in order."""
    return f"{MESSAGE_PREFIX}{timestamp:013d}#{mid}"


def receipt_sort_key(receipt: StoredReceipt) -> str:
    """The receipt's sort key: the same for every delivery of the same receipt."""
    point = receipt.mids[0] if receipt.kind == "read" else str(receipt.watermark)
    return f"{RECEIPT_PREFIX}{receipt.kind}#{receipt.reader_id}#{point}"


def reaction_sort_key(mid: str, reactor_id: str) -> str:
    """One item per person and message: Instagram allows one reaction each."""
    return f"{REACTION_PREFIX}{mid}#{reactor_id}"


def _message_item(message: StoredMessage) -> dict[str, Any]:
    item = {
        "pk": string_value(_pk(message.conversation_id)),
        "sk": string_value(message_sort_key(message.timestamp, message.mid)),
        "conversationId": string_value(message.conversation_id),
        "mid": string_value(message.mid),
        "senderId": string_value(message.sender_id),
        "recipientId": string_value(message.recipient_id),
        "timestamp": number_value(message.timestamp),
        "isEcho": {"BOOL": message.is_echo},
        "attachments": string_value(
            json.dumps([a.model_dump(mode="json") for a in message.attachments])
        ),
    }
    return _with_optional(item, text=message.text)


def _message_from_item(item: Item) -> StoredMessage:
    return StoredMessage(
        conversation_id=item["conversationId"]["S"],
        mid=item["mid"]["S"],
        sender_id=item["senderId"]["S"],
        recipient_id=item["recipientId"]["S"],
        timestamp=int(item["timestamp"]["N"]),
        text=_text(item, "text"),
        attachments=tuple(
            Attachment.model_validate(a) for a in json.loads(item["attachments"]["S"])
        ),
        is_echo=bool(item["isEcho"]["BOOL"]),
    )


def _receipt_item(receipt: StoredReceipt) -> dict[str, Any]:
    item = {
        "pk": string_value(_pk(receipt.conversation_id)),
        "sk": string_value(receipt_sort_key(receipt)),
        "conversationId": string_value(receipt.conversation_id),
        "kind": string_value(receipt.kind),
        "readerId": string_value(receipt.reader_id),
        "timestamp": number_value(receipt.timestamp),
        # A list, not a string set: a delivery may list no mids, and a set cannot be empty.
        "mids": {"L": [string_value(mid) for mid in receipt.mids]},
    }
    if receipt.watermark is not None:
        item["watermark"] = number_value(receipt.watermark)
    return item


def _receipt_from_item(item: Item) -> StoredReceipt:
    watermark = item.get("watermark")
    return StoredReceipt(
        conversation_id=item["conversationId"]["S"],
        kind=item["kind"]["S"],
        reader_id=item["readerId"]["S"],
        timestamp=int(item["timestamp"]["N"]),
        mids=tuple(str(mid["S"]) for mid in item["mids"]["L"]),
        watermark=None if watermark is None else int(watermark["N"]),
    )


def _reaction_item(reaction: StoredReaction) -> dict[str, Any]:
    item = {
        "pk": string_value(_pk(reaction.conversation_id)),
        "sk": string_value(reaction_sort_key(reaction.mid, reaction.reactor_id)),
        "conversationId": string_value(reaction.conversation_id),
        "mid": string_value(reaction.mid),
        "reactorId": string_value(reaction.reactor_id),
        "action": string_value(reaction.action),
        "timestamp": number_value(reaction.timestamp),
    }
    return _with_optional(item, reaction=reaction.reaction, emoji=reaction.emoji)


def _reaction_from_item(item: Item) -> StoredReaction:
    return StoredReaction(
        conversation_id=item["conversationId"]["S"],
        mid=item["mid"]["S"],
        reactor_id=item["reactorId"]["S"],
        action=item["action"]["S"],
        timestamp=int(item["timestamp"]["N"]),
        reaction=_text(item, "reaction"),
        emoji=_text(item, "emoji"),
    )


def _only_condition_failures(error: Any) -> bool:
    """True when a cancelled transaction failed only on its conditions (a duplicate)."""
    reasons = error.response.get("CancellationReasons") or []
    codes = {reason.get("Code") for reason in reasons} - {"None", None}
    return codes == {"ConditionalCheckFailed"}


class DynamoDBConversationStore:
    """The production store (boto3's low-level client, conditional writes)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    @contextmanager
    def _transient_errors(self) -> Iterator[None]:
        """Turn a write DynamoDB can never accept into `UnstorableRecordError`, and throttling,
        conflicts and connection failures into `StoreUnavailableError`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == VALIDATION_FAILED:
                raise UnstorableRecordError(error.get("Message", VALIDATION_FAILED)) from exc
            raise StoreUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"{type(exc).__name__}: {exc}") from exc

    def add_message(self, message: StoredMessage) -> bool:
        """Write the message and its mid guard together, each only if absent."""
        guard = {
            "pk": string_value(f"INSTAGRAM_MID#{message.mid}"),
            "sk": string_value(GUARD),
            "conversationId": string_value(message.conversation_id),
            "messageSk": string_value(message_sort_key(message.timestamp, message.mid)),
        }
        with self._transient_errors():
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": guard,
                                "ConditionExpression": _ABSENT,
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": _message_item(message),
                                "ConditionExpression": _ABSENT,
                            }
                        },
                    ]
                )
            except self._client.exceptions.TransactionCanceledException as exc:
                if _only_condition_failures(exc):
                    return False
                raise  # a conflict with a concurrent copy: the retry will see it stored
        return True

    def record_receipt(self, receipt: StoredReceipt) -> bool:
        """Write the receipt if it is not there yet."""
        with self._transient_errors():
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=_receipt_item(receipt),
                    ConditionExpression=_ABSENT,
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def record_reaction(self, reaction: StoredReaction) -> bool:
        """Replace the reactor's state on the message unless the stored one is as recent."""
        with self._transient_errors():
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=_reaction_item(reaction),
                    ConditionExpression=f"{_ABSENT} OR #timestamp < :timestamp",
                    ExpressionAttributeNames={"#timestamp": "timestamp"},
                    ExpressionAttributeValues={":timestamp": number_value(reaction.timestamp)},
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                return False
        return True

    def _query(self, conversation_id: str, prefix: str) -> Iterator[Item]:
        paginator = self._client.get_paginator("query")
        with self._transient_errors():
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": string_value(_pk(conversation_id)),
                    ":prefix": string_value(prefix),
                },
            ):
                yield from page.get("Items", [])

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation's messages, oldest first (sort key order)."""
        return [_message_from_item(i) for i in self._query(conversation_id, MESSAGE_PREFIX)]

    def receipts(self, conversation_id: str) -> list[StoredReceipt]:
        """The conversation's read and delivery receipts."""
        return [_receipt_from_item(i) for i in self._query(conversation_id, RECEIPT_PREFIX)]

    def reactions(self, conversation_id: str) -> list[StoredReaction]:
        """The conversation's reactions, taken-back ones included as `unreact`."""
        return [_reaction_from_item(i) for i in self._query(conversation_id, REACTION_PREFIX)]
