"""`InMemoryScenarioStore`: the `ScenarioStore` protocol in memory, with the same conditions
(and the same outcomes when a condition fails) as `DynamoDBScenarioStore`.

Every protocol method is counted in `calls` and logged in `log` before it does anything, and may
be made to fail through `crash_on`, so tests can assert how many writes a run made and simulate
a store error (an `Exception`) or the process dying mid-call (a `BaseException`).
Records and checkpoints are copied in and out, as a round trip through a database would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib.scenarios.models import BusinessEvent, ValidationReport
from chalicelib.scenarios.plan import COMPLETED_PROGRESS
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord
from chalicelib.scenarios.store import (
    LeaseLostError,
    LeaseUnavailableError,
    NotRetryableError,
    ScenarioExistsError,
)

# Given the method's name and its arguments; returns the exception to raise, or None to go on.
CrashHook = Callable[[str, dict[str, Any]], BaseException | None]

_RUNNABLE = ("queued", "processing")
# Which attributes `DynamoDBScenarioStore.create` writes besides the key; the rest start unset.
_UNSET_ON_CREATE: dict[str, Any] = {
    "error": None,
    "events_count": 0,
    "completed_at": None,
    "lease_owner": None,
    "lease_until": None,
    "validation": None,
}


@dataclass(frozen=True)
class StoreCall:
    """One call of a protocol method, with a snapshot of its keyword arguments."""

    method: str
    arguments: dict[str, Any]


def _snapshot(value: Any) -> Any:
    """A copy of an argument as it was at call time (callers keep mutating their checkpoint)."""
    if isinstance(value, BaseModel) and not value.model_config.get("frozen"):
        return value.model_copy(deep=True)
    if isinstance(value, list | tuple):
        return tuple(_snapshot(item) for item in value)
    return value


class InMemoryScenarioStore:
    """A faithful in-memory `ScenarioStore`; see the module docstring for the test hooks."""

    def __init__(self, *, crash_on: CrashHook | None = None) -> None:
        self.crash_on = crash_on
        self.calls: Counter[str] = Counter()
        self.log: list[StoreCall] = []
        self._records: dict[str, ScenarioRecord] = {}
        self._events: dict[str, dict[str, BusinessEvent]] = {}

    # Test helpers: neither counted, logged, nor subject to `crash_on`.

    def put_record(self, record: ScenarioRecord) -> None:
        """Store `record` exactly as given, bypassing every condition (to set up a state)."""
        self._records[record.scenario_id] = record.model_copy(deep=True)

    def peek(self, scenario_id: str) -> ScenarioRecord | None:
        """The stored record, checkpoint included."""
        record = self._records.get(scenario_id)
        return None if record is None else record.model_copy(deep=True)

    def stored_events(self, scenario_id: str) -> list[BusinessEvent]:
        """The scenario's stored events in event id order."""
        events = self._events.get(scenario_id, {})
        return [events[event_id] for event_id in sorted(events)]

    def forget_calls(self) -> None:
        """Empty `calls` and `log`, to count only what happens from now on."""
        self.calls.clear()
        self.log.clear()

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every logged call of `method`, in call order."""
        return [call.arguments for call in self.log if call.method == method]

    # Internals.

    def _enter(self, method: str, **arguments: Any) -> None:
        """Count and log a call, then let `crash_on` fail it before it changes anything."""
        snapshot = {name: _snapshot(value) for name, value in arguments.items()}
        self.calls[method] += 1
        self.log.append(StoreCall(method, snapshot))
        if self.crash_on is not None:
            error = self.crash_on(method, snapshot)
            if error is not None:
                raise error

    def _read(self, scenario_id: str, *, with_checkpoint: bool = True) -> ScenarioRecord | None:
        record = self._records.get(scenario_id)
        if record is None:
            return None
        if not with_checkpoint:
            # The status projection leaves both blobs out, so they read as their defaults.
            return record.model_copy(update={"checkpoint": Checkpoint(), "validation": None})
        return record.model_copy(deep=True)

    def _write(self, record: ScenarioRecord, **changes: Any) -> ScenarioRecord:
        copied = {name: _snapshot(value) for name, value in changes.items()}
        updated = record.model_copy(update=copied, deep=True)
        self._records[record.scenario_id] = updated
        return updated.model_copy(deep=True)

    # The protocol.

    def create(self, record: ScenarioRecord) -> None:
        """Store a new scenario; raises `ScenarioExistsError` if the id is taken."""
        self._enter("create", record=record)
        if record.scenario_id in self._records:
            raise ScenarioExistsError(record.scenario_id)
        self._records[record.scenario_id] = record.model_copy(update=_UNSET_ON_CREATE, deep=True)

    def get(self, scenario_id: str, *, with_checkpoint: bool = True) -> ScenarioRecord | None:
        """The scenario (its checkpoint and validation only when asked for), or None."""
        self._enter("get", scenario_id=scenario_id, with_checkpoint=with_checkpoint)
        return self._read(scenario_id, with_checkpoint=with_checkpoint)

    def acquire_lease(
        self, scenario_id: str, *, run: int, owner: str, now: datetime, lease_seconds: int
    ) -> ScenarioRecord:
        """Lease `run` to `owner` when it is queued or processing with no live lease."""
        self._enter(
            "acquire_lease",
            scenario_id=scenario_id,
            run=run,
            owner=owner,
            now=now,
            lease_seconds=lease_seconds,
        )
        record = self._records.get(scenario_id)
        now_ts = now.timestamp()
        if (
            record is None
            or record.run != run
            or record.status not in _RUNNABLE
            or (record.lease_until is not None and not record.lease_until < now_ts)
        ):
            raise LeaseUnavailableError(self._read(scenario_id))
        return self._write(
            record,
            lease_owner=owner,
            lease_until=now_ts + lease_seconds,
            status="processing",
            updated_at=now,
        )

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
        """Progress, checkpoint and a longer lease; `LeaseLostError` if not ours or backwards."""
        self._enter(
            "advance",
            scenario_id=scenario_id,
            owner=owner,
            stage=stage,
            progress=progress,
            checkpoint=checkpoint,
            now=now,
            lease_seconds=lease_seconds,
        )
        record = self._records.get(scenario_id)
        if (
            record is None
            or record.lease_owner != owner
            or record.status != "processing"
            or record.progress > progress
        ):
            raise LeaseLostError(scenario_id)
        self._write(
            record,
            current_stage=stage,
            progress=progress,
            checkpoint=checkpoint,
            lease_until=now.timestamp() + lease_seconds,
            updated_at=now,
        )

    def release(
        self, scenario_id: str, *, owner: str, checkpoint: Checkpoint, now: datetime
    ) -> None:
        """Store the checkpoint and give the lease up; silently nothing if it is not ours."""
        self._enter("release", scenario_id=scenario_id, owner=owner, checkpoint=checkpoint, now=now)
        record = self._records.get(scenario_id)
        if record is None or record.lease_owner != owner:
            return
        self._write(
            record, checkpoint=checkpoint, updated_at=now, lease_owner=None, lease_until=None
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
        """Completed at 100 % by the lease holder of a processing run, else `LeaseLostError`."""
        self._enter(
            "complete",
            scenario_id=scenario_id,
            owner=owner,
            checkpoint=checkpoint,
            events_count=events_count,
            validation=validation,
            now=now,
        )
        record = self._records.get(scenario_id)
        if record is None or record.lease_owner != owner or record.status != "processing":
            raise LeaseLostError(scenario_id)
        self._write(
            record,
            status="completed",
            progress=COMPLETED_PROGRESS,
            current_stage="completed",
            events_count=events_count,
            validation=validation,
            checkpoint=checkpoint,
            completed_at=now,
            updated_at=now,
            lease_owner=None,
            lease_until=None,
            error=None,
        )

    def fail(
        self, scenario_id: str, *, run: int, error: str, now: datetime, owner: str | None = None
    ) -> bool:
        """Fail `run` while queued or processing and not leased live by anyone but `owner`."""
        self._enter("fail", scenario_id=scenario_id, run=run, error=error, now=now, owner=owner)
        record = self._records.get(scenario_id)
        if record is None or record.run != run or record.status not in _RUNNABLE:
            return False
        leased_live = record.lease_until is not None and record.lease_until >= now.timestamp()
        if leased_live and record.lease_owner != owner:
            return False
        self._write(
            record,
            status="failed",
            error=error[:1000],
            current_stage="failed",
            updated_at=now,
            lease_owner=None,
            lease_until=None,
        )
        return True

    def restart(self, scenario_id: str, *, now: datetime) -> ScenarioRecord:
        """A failed scenario queued again as run + 1 from scratch, else `NotRetryableError`."""
        self._enter("restart", scenario_id=scenario_id, now=now)
        record = self._records.get(scenario_id)
        if record is None or record.status != "failed":
            raise NotRetryableError(self._read(scenario_id, with_checkpoint=False))
        return self._write(
            record,
            status="queued",
            progress=0,
            current_stage="queued",
            run=record.run + 1,
            checkpoint=Checkpoint(),
            events_count=0,
            updated_at=now,
            error=None,
            completed_at=None,
            validation=None,
            lease_owner=None,
            lease_until=None,
        )

    def put_events(self, scenario_id: str, events: Sequence[BusinessEvent]) -> None:
        """Store events keyed by their ids: writing an id again overwrites it."""
        self._enter("put_events", scenario_id=scenario_id, events=events)
        stored = self._events.setdefault(scenario_id, {})
        for event in events:
            stored[event.event_id] = event

    def iter_events(self, scenario_id: str) -> Iterator[BusinessEvent]:
        """Every stored event of the scenario in event id order (as stored at call time)."""
        self._enter("iter_events", scenario_id=scenario_id)
        return iter(self.stored_events(scenario_id))

    def page_events(
        self, scenario_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[BusinessEvent], str | None]:
        """Up to `limit` events with ids after `cursor`, and the next page's cursor.

        Like a DynamoDB Query with `Limit`, a full page always has a cursor (its last event id),
        even when nothing follows: the page after it is then empty, with no cursor.
        """
        self._enter("page_events", scenario_id=scenario_id, limit=limit, cursor=cursor)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        after = [
            event
            for event in self.stored_events(scenario_id)
            if cursor is None or event.event_id > cursor
        ]
        page = after[:limit]
        return page, (page[-1].event_id if len(page) == limit else None)
