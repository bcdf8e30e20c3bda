"""`EscrowStore` on DynamoDB, in the app's single table.

Keys: `pk = ESCROW#<id>`; the escrow is `sk = META`, its audit entries `sk = AUDIT#<sequence>`
(a rewrite of an entry lands on the same key), and the recording payments implementation keeps
its operations in the same partition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.dynamodb import string_value
from chalicelib.escrow.models import Escrow, EscrowState, Transition
from chalicelib.escrow.store import (
    AuditEntry,
    EscrowExistsError,
    EscrowNotFoundError,
    TransitionRefusedError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = Mapping[str, Any]

META = "META"
AUDIT_PREFIX = "AUDIT#"


def _pk(escrow_id: str) -> str:
    return f"ESCROW#{escrow_id}"


def _key(escrow_id: str, sk: str = META) -> dict[str, AttributeValueTypeDef]:
    return {"pk": string_value(_pk(escrow_id)), "sk": string_value(sk)}


def _transition_value(change: Transition) -> AttributeValueTypeDef:
    # Each history entry is one JSON string: appended with list_append, read back whole.
    return string_value(change.model_dump_json(by_alias=True, exclude_none=True))


def _escrow_item(escrow: Escrow) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        **_key(escrow.escrow_id),
        "escrowId": string_value(escrow.escrow_id),
        "amount": {"N": str(escrow.amount)},
        "currency": string_value(escrow.currency),
        "buyerEmail": string_value(escrow.buyer_email),
        "sellerEmail": string_value(escrow.seller_email),
        "state": string_value(escrow.state),
        "createdAt": string_value(escrow.created_at.isoformat()),
        "updatedAt": string_value(escrow.updated_at.isoformat()),
        "transitions": {"L": [_transition_value(change) for change in escrow.transitions]},
        "jobs": {"M": {key: string_value(job_id) for key, job_id in escrow.jobs.items()}},
    }
    if escrow.partner_webhook_url is not None:
        item["partnerWebhookUrl"] = string_value(escrow.partner_webhook_url)
    if escrow.payment_id is not None:
        item["paymentId"] = string_value(escrow.payment_id)
    return item


def _escrow_from_item(item: Item) -> Escrow:
    return Escrow(
        escrow_id=item["escrowId"]["S"],
        amount=int(item["amount"]["N"]),
        currency=item["currency"]["S"],
        buyer_email=item["buyerEmail"]["S"],
        seller_email=item["sellerEmail"]["S"],
        partner_webhook_url=item.get("partnerWebhookUrl", {}).get("S"),
        payment_id=item.get("paymentId", {}).get("S"),
        state=item["state"]["S"],
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
        transitions=tuple(
            Transition.model_validate(json.loads(value["S"])) for value in item["transitions"]["L"]
        ),
        jobs={key: value["S"] for key, value in item.get("jobs", {}).get("M", {}).items()},
    )


class DynamoDBEscrowStore:
    """The production store (boto3's low-level client, conditional writes)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, escrow: Escrow) -> None:
        """Store a new escrow; raises `EscrowExistsError` if the id is taken."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_escrow_item(escrow),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise EscrowExistsError(escrow.escrow_id) from exc

    def get(self, escrow_id: str) -> Escrow | None:
        """The escrow (a strongly consistent read: it follows a write at once), or None."""
        item = self._client.get_item(
            TableName=self._table, Key=_key(escrow_id), ConsistentRead=True
        ).get("Item")
        return None if item is None else _escrow_from_item(item)

    def transition(self, escrow_id: str, *, start: EscrowState, change: Transition) -> Escrow:
        """One conditional UpdateItem from `start`; see `EscrowStore.transition`."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(escrow_id),
                UpdateExpression=(
                    "SET #state = :to, updatedAt = :at,"
                    " transitions = list_append(transitions, :change)"
                ),
                ConditionExpression="attribute_exists(pk) AND #state = :start",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":to": string_value(change.state),
                    ":at": string_value(change.at.isoformat()),
                    ":change": {"L": [_transition_value(change)]},
                    ":start": string_value(start),
                },
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            current = self.get(escrow_id)
            if current is None:
                raise EscrowNotFoundError(escrow_id) from exc
            raise TransitionRefusedError(current) from exc
        return _escrow_from_item(response["Attributes"])

    def record_jobs(self, escrow_id: str, jobs: Mapping[str, str]) -> Escrow:
        """Add side effect key -> job id entries; an existing key keeps its first job id."""
        if not jobs:
            current = self.get(escrow_id)
            if current is None:
                raise EscrowNotFoundError(escrow_id)
            return current
        names: dict[str, str] = {}
        values: dict[str, AttributeValueTypeDef] = {}
        assignments = []
        for index, (key, job_id) in enumerate(jobs.items()):
            names[f"#k{index}"] = key
            values[f":v{index}"] = string_value(job_id)
            assignments.append(f"jobs.#k{index} = if_not_exists(jobs.#k{index}, :v{index})")
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=_key(escrow_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise EscrowNotFoundError(escrow_id) from exc
        return _escrow_from_item(response["Attributes"])

    def put_audit(self, entry: AuditEntry) -> None:
        """Write the entry at `AUDIT#<sequence>` of its escrow (a repeat overwrites it)."""
        item: dict[str, AttributeValueTypeDef] = {
            **_key(entry.escrow_id, f"{AUDIT_PREFIX}{entry.sequence:04d}"),
            "entry": string_value(entry.model_dump_json()),
        }
        self._client.put_item(TableName=self._table, Item=item)

    def audit_log(self, escrow_id: str) -> list[AuditEntry]:
        """The escrow's audit entries, in sequence order (the sort key's order)."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": string_value(_pk(escrow_id)),
                ":prefix": string_value(AUDIT_PREFIX),
            },
            ConsistentRead=True,
        )
        return [AuditEntry.model_validate_json(item["entry"]["S"]) for item in response["Items"]]
