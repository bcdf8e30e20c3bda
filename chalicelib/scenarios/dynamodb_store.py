"""`ScenarioStore` on DynamoDB: one item per scenario, one item per event, one table.

Keys: `pk = SCENARIO#<id>`; the scenario is `sk = META`, each event `sk = EVENT#<event id>`,
so a scenario's events come back from one Query in their stable order and a rerun that writes
the same event overwrites it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chalicelib.dynamodb import number_value, string_value
from chalicelib.scenarios.models import BusinessEvent, ValidationReport
from chalicelib.scenarios.plan import COMPLETED_PROGRESS
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord
from chalicelib.scenarios.store import (
    LeaseLostError,
    LeaseUnavailableError,
    NotRetryableError,
    ScenarioExistsError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = Mapping[str, Any]

META = "META"
EVENT_PREFIX = "EVENT#"
BATCH_SIZE = 25  # BatchWriteItem's limit
# Projection for the status endpoint: everything but the checkpoint and validation blobs.
_STATUS_FIELDS = (
    "scenarioId, scenarioType, seed, #status, progress, currentStage, #error, eventsCount, #run,"
    " createdAt, updatedAt, completedAt, leaseOwner, leaseUntil"
)
_NAMES = {"#status": "status", "#error": "error", "#run": "run"}


def _pk(scenario_id: str) -> str:
    return f"SCENARIO#{scenario_id}"


def _time(value: datetime) -> AttributeValueTypeDef:
    return {"S": value.isoformat()}


def _meta_key(scenario_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": string_value(_pk(scenario_id)), "sk": string_value(META)}


# Record field <- item attribute, for the attributes stored as plain strings or numbers.
_RECORD_FIELDS = {
    "scenario_id": "scenarioId",
    "scenario_type": "scenarioType",
    "seed": "seed",
    "status": "status",
    "progress": "progress",
    "current_stage": "currentStage",
    "error": "error",
    "events_count": "eventsCount",
    "run": "run",
    "created_at": "createdAt",
    "updated_at": "updatedAt",
    "completed_at": "completedAt",
    "lease_owner": "leaseOwner",
    "lease_until": "leaseUntil",
    "checkpoint": "checkpoint",
    "validation": "validation",
}
_JSON_FIELDS: dict[str, type[BaseModel]] = {
    "checkpoint": Checkpoint,
    "validation": ValidationReport,
}


def _record_from_item(item: Item) -> ScenarioRecord:
    values: dict[str, Any] = {}
    for field, attribute in _RECORD_FIELDS.items():
        value = item.get(attribute)
        if value is None:
            continue
        if "N" in value:
            values[field] = float(value["N"]) if field == "lease_until" else int(value["N"])
        elif field in _JSON_FIELDS:
            values[field] = _JSON_FIELDS[field].model_validate_json(value["S"])
        else:
            values[field] = value["S"]
    # Pydantic turns the ISO strings into datetimes and checks the literals.
    return ScenarioRecord.model_validate(values)


def _event_item(scenario_id: str, event: BusinessEvent, expires_at: int) -> dict[str, Any]:
    return {
        "pk": string_value(_pk(scenario_id)),
        "sk": string_value(EVENT_PREFIX + event.event_id),
        "month": number_value(event.month),
        "day": number_value(event.day),
        "eventType": string_value(event.event_type),
        "category": string_value(event.category),
        "amountCents": number_value(event.amount_cents),
        "description": string_value(event.description),
        "counterparty": string_value(event.counterparty),
        "expiresAt": number_value(expires_at),
    }


def _event_from_item(item: Item) -> BusinessEvent:
    return BusinessEvent(
        event_id=str(item["sk"]["S"]).removeprefix(EVENT_PREFIX),
        month=int(item["month"]["N"]),
        day=int(item["day"]["N"]),
        event_type=item["eventType"]["S"],
        category=item["category"]["S"],
        amount_cents=int(item["amountCents"]["N"]),
        description=item["description"]["S"],
        counterparty=item["counterparty"]["S"],
    )


class DynamoDBScenarioStore:
    """The production store (boto3's low-level client, conditional writes)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        retention: timedelta = timedelta(days=30),
        sleep: Any = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self._retention = retention
        self._sleep = sleep

    def _expires_at(self, created: datetime) -> int:
        return int((created + self._retention).timestamp())

    def _update(self, scenario_id: str, **request: Any) -> Item | None:
        """One conditional UpdateItem: the returned attributes, or None when its condition failed.

        An update that rewrites identical values returns no attributes at all, so success is an
        empty mapping, never None.
        """
        try:
            response = self._client.update_item(
                TableName=self._table, Key=_meta_key(scenario_id), **request
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return response.get("Attributes", {})

    def create(self, record: ScenarioRecord) -> None:
        """Store a new scenario; raises `ScenarioExistsError` if the id is taken."""
        item: dict[str, AttributeValueTypeDef] = {
            **_meta_key(record.scenario_id),
            "scenarioId": string_value(record.scenario_id),
            "scenarioType": string_value(record.scenario_type),
            "seed": number_value(record.seed),
            "status": string_value(record.status),
            "progress": number_value(record.progress),
            "currentStage": string_value(record.current_stage),
            "eventsCount": number_value(0),
            "run": number_value(record.run),
            "createdAt": _time(record.created_at),
            "updatedAt": _time(record.updated_at),
            "checkpoint": string_value(record.checkpoint.model_dump_json()),
            "expiresAt": number_value(self._expires_at(record.created_at)),
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException as exc:
            raise ScenarioExistsError(record.scenario_id) from exc

    def get(self, scenario_id: str, *, with_checkpoint: bool = True) -> ScenarioRecord | None:
        """The scenario (its checkpoint and validation only when asked for), or None."""
        request: dict[str, Any] = {"TableName": self._table, "Key": _meta_key(scenario_id)}
        if not with_checkpoint:
            request["ProjectionExpression"] = _STATUS_FIELDS
            request["ExpressionAttributeNames"] = _NAMES
        item = self._client.get_item(**request).get("Item")
        return None if item is None else _record_from_item(item)

    def acquire_lease(
        self, scenario_id: str, *, run: int, owner: str, now: datetime, lease_seconds: int
    ) -> ScenarioRecord:
        """Give `owner` the scenario's `run` unless it is finished, another run, or leased."""
        attributes = self._update(
            scenario_id,
            UpdateExpression=(
                "SET leaseOwner = :owner, leaseUntil = :until, #status = :processing,"
                " updatedAt = :now"
            ),
            ConditionExpression=(
                "attribute_exists(pk) AND #run = :run AND #status IN (:queued, :processing)"
                " AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now_ts)"
            ),
            ExpressionAttributeNames={"#status": "status", "#run": "run"},
            ExpressionAttributeValues={
                ":owner": string_value(owner),
                ":until": number_value(now.timestamp() + lease_seconds),
                ":now_ts": number_value(now.timestamp()),
                ":now": _time(now),
                ":run": number_value(run),
                ":queued": string_value("queued"),
                ":processing": string_value("processing"),
            },
            ReturnValues="ALL_NEW",
        )
        if attributes is None:
            raise LeaseUnavailableError(self.get(scenario_id))
        return _record_from_item(attributes)

    def advance(
        self,
        scenario_id: str,
        *,
        owner: str,
        stage: str,
        progress: int,
        checkpoint: Checkpoint,
        now: datetime,
        lease_seconds: int,
    ) -> None:
        """Record progress and checkpoint and extend the lease; never backwards, never if lost."""
        changed = self._update(
            scenario_id,
            UpdateExpression=(
                "SET currentStage = :stage, progress = :progress, checkpoint = :checkpoint,"
                " leaseUntil = :until, updatedAt = :now"
            ),
            ConditionExpression=(
                "leaseOwner = :owner AND #status = :processing AND progress <= :progress"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":stage": string_value(stage),
                ":progress": number_value(progress),
                ":checkpoint": string_value(checkpoint.model_dump_json()),
                ":until": number_value(now.timestamp() + lease_seconds),
                ":now": _time(now),
                ":owner": string_value(owner),
                ":processing": string_value("processing"),
            },
        )
        if changed is None:
            raise LeaseLostError(scenario_id)

    def release(
        self, scenario_id: str, *, owner: str, checkpoint: Checkpoint, now: datetime
    ) -> None:
        """Store the checkpoint and give the lease up, if it is still ours."""
        self._update(
            scenario_id,
            UpdateExpression=(
                "SET checkpoint = :checkpoint, updatedAt = :now REMOVE leaseOwner, leaseUntil"
            ),
            ConditionExpression="leaseOwner = :owner",
            ExpressionAttributeValues={
                ":checkpoint": string_value(checkpoint.model_dump_json()),
                ":now": _time(now),
                ":owner": string_value(owner),
            },
        )

    def complete(
        self,
        scenario_id: str,
        *,
        owner: str,
        checkpoint: Checkpoint,
        events_count: int,
        validation: ValidationReport,
        now: datetime,
    ) -> None:
        """Mark the scenario completed at 100 %, once, by the lease holder."""
        changed = self._update(
            scenario_id,
            UpdateExpression=(
                "SET #status = :completed, progress = :done, currentStage = :completed,"
                " eventsCount = :events, validation = :validation, checkpoint = :checkpoint,"
                " completedAt = :now, updatedAt = :now REMOVE leaseOwner, leaseUntil, #error"
            ),
            ConditionExpression="leaseOwner = :owner AND #status = :processing",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues={
                ":completed": string_value("completed"),
                ":done": number_value(COMPLETED_PROGRESS),
                ":events": number_value(events_count),
                ":validation": string_value(validation.model_dump_json()),
                ":checkpoint": string_value(checkpoint.model_dump_json()),
                ":now": _time(now),
                ":owner": string_value(owner),
                ":processing": string_value("processing"),
            },
        )
        if changed is None:
            raise LeaseLostError(scenario_id)

    def fail(
        self, scenario_id: str, *, run: int, error: str, now: datetime, owner: str | None = None
    ) -> bool:
        """Mark `run` failed unless it finished or someone else holds a live lease on it."""
        changed = self._update(
            scenario_id,
            UpdateExpression=(
                "SET #status = :failed, #error = :error, currentStage = :failed,"
                " updatedAt = :now REMOVE leaseOwner, leaseUntil"
            ),
            # A live lease means a run is still at work (a late failure callback must not stop
            # it); its holder may fail it itself.
            ConditionExpression=(
                "attribute_exists(pk) AND #run = :run AND #status IN (:queued, :processing)"
                " AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now_ts"
                " OR leaseOwner = :owner)"
            ),
            ExpressionAttributeNames={"#status": "status", "#error": "error", "#run": "run"},
            ExpressionAttributeValues={
                ":failed": string_value("failed"),
                ":error": string_value(error[:1000]),
                ":now": _time(now),
                ":now_ts": number_value(now.timestamp()),
                ":owner": string_value(owner or ""),
                ":run": number_value(run),
                ":queued": string_value("queued"),
                ":processing": string_value("processing"),
            },
        )
        return changed is not None

    def restart(self, scenario_id: str, *, now: datetime) -> ScenarioRecord:
        """Queue a failed scenario as a new run from the first stage."""
        attributes = self._update(
            scenario_id,
            UpdateExpression=(
                "SET #status = :queued, progress = :zero, currentStage = :queued,"
                " #run = #run + :one, checkpoint = :empty, eventsCount = :zero, updatedAt = :now,"
                # A new run keeps the scenario as long as a new scenario, or it could expire
                # under the run (its events expire from when they are written).
                " expiresAt = :expires"
                " REMOVE #error, completedAt, validation, leaseOwner, leaseUntil"
            ),
            ConditionExpression="#status = :failed",
            ExpressionAttributeNames={"#status": "status", "#error": "error", "#run": "run"},
            ExpressionAttributeValues={
                ":queued": string_value("queued"),
                ":zero": number_value(0),
                ":one": number_value(1),
                ":empty": string_value(Checkpoint().model_dump_json()),
                ":now": _time(now),
                ":expires": number_value(self._expires_at(now)),
                ":failed": string_value("failed"),
            },
            ReturnValues="ALL_NEW",
        )
        if attributes is None:
            raise NotRetryableError(self.get(scenario_id, with_checkpoint=False))
        return _record_from_item(attributes)

    def put_events(self, scenario_id: str, events: Sequence[BusinessEvent]) -> None:
        """BatchWriteItem in chunks of 25, resending what DynamoDB leaves unprocessed."""
        expires_at = int(time.time() + self._retention.total_seconds())
        for start in range(0, len(events), BATCH_SIZE):
            requests: list[Any] = [
                {"PutRequest": {"Item": _event_item(scenario_id, event, expires_at)}}
                for event in events[start : start + BATCH_SIZE]
            ]
            self._write_batch(requests)

    def _write_batch(self, requests: list[Any], attempts: int = 8) -> None:
        pending = {self._table: requests}
        for attempt in range(attempts):
            unprocessed = self._client.batch_write_item(RequestItems=pending).get(
                "UnprocessedItems", {}
            )
            if not unprocessed:
                return
            pending = unprocessed
            if attempt < attempts - 1:
                # Throttled: back off exponentially (50 ms, 100 ms, ... about 3 s in all).
                self._sleep(0.05 * 2**attempt)
        raise RuntimeError(f"DynamoDB left {len(pending[self._table])} events unwritten")

    def _query_events(self, scenario_id: str, **request: Any) -> Any:
        return self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": string_value(_pk(scenario_id)),
                ":prefix": string_value(EVENT_PREFIX),
            },
            **request,
        )

    def iter_events(self, scenario_id: str) -> Iterator[BusinessEvent]:
        """Every stored event of the scenario, page after page, in event id order."""
        request: dict[str, Any] = {}
        while True:
            response = self._query_events(scenario_id, **request)
            for item in response.get("Items", []):
                yield _event_from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def page_events(
        self, scenario_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[BusinessEvent], str | None]:
        """Up to `limit` events after the event id `cursor`, and the next page's cursor."""
        request: dict[str, Any] = {"Limit": limit}
        if cursor is not None:
            request["ExclusiveStartKey"] = {
                "pk": string_value(_pk(scenario_id)),
                "sk": string_value(EVENT_PREFIX + cursor),
            }
        response = self._query_events(scenario_id, **request)
        events = [_event_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return events, (str(last["sk"]["S"]).removeprefix(EVENT_PREFIX) if last else None)
