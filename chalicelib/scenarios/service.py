"""What the HTTP routes ask of scenarios: start one, retry one, read its state and results."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.queue.dispatch import DispatchResult
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.scenarios.models import ScenarioType
from chalicelib.scenarios.records import ScenarioRecord
from chalicelib.scenarios.stages import stage_message
from chalicelib.scenarios.store import ScenarioStore

MAX_SEED = 2**31 - 1


class GenerateRequest(BaseModel):
    """The body of `POST /api/generate`."""

    model_config = ConfigDict(extra="forbid")

    scenario_type: ScenarioType = Field(alias="scenarioType")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, strict=True)


class NotQueuedError(RuntimeError):
    """Neither QStash nor the fallback took the work; the scenario was marked failed."""

    def __init__(self, record: ScenarioRecord, reason: str) -> None:
        super().__init__(reason)
        self.record = record


def _now() -> datetime:
    return datetime.now(UTC)


def _send_or_fail(
    record: ScenarioRecord,
    *,
    store: ScenarioStore,
    send: Callable[[GenerationMessage], DispatchResult],
    now: Callable[[], datetime],
) -> DispatchResult:
    """Send the run's first message; if nothing takes it, fail the run visibly (it can be
    retried) rather than leave it queued forever."""
    try:
        return send(GenerationMessage(scenario_id=record.scenario_id, run=record.run))
    except Exception as exc:
        reason = f"Could not be queued: {type(exc).__name__}: {exc}"
        store.fail(record.scenario_id, run=record.run, error=reason, now=now())
        raise NotQueuedError(record, reason) from exc


def start_generation(
    request: GenerateRequest,
    *,
    store: ScenarioStore,
    send: Callable[[GenerationMessage], DispatchResult],
    now: Callable[[], datetime] = _now,
) -> tuple[ScenarioRecord, DispatchResult]:
    """Record a queued scenario, then hand ONE message for it to the worker.

    Raises `NotQueuedError` (with the scenario marked failed) when nothing took the message.
    """
    created = now()
    record = ScenarioRecord(
        scenario_id=uuid.uuid4().hex,
        scenario_type=request.scenario_type,
        seed=request.seed if request.seed is not None else secrets.randbelow(MAX_SEED),
        created_at=created,
        updated_at=created,
    )
    store.create(record)
    return record, _send_or_fail(record, store=store, send=send, now=now)


def retry_generation(
    scenario_id: str,
    *,
    store: ScenarioStore,
    send: Callable[[GenerationMessage], DispatchResult],
    now: Callable[[], datetime] = _now,
) -> tuple[ScenarioRecord, DispatchResult]:
    """Start a new run of a failed scenario; raises `NotRetryableError` for any other state."""
    record = store.restart(scenario_id, now=now())
    return record, _send_or_fail(record, store=store, send=send, now=now)


def status_view(record: ScenarioRecord) -> dict[str, Any]:
    """The body of `GET /api/status/{id}`."""
    return {
        "scenarioId": record.scenario_id,
        "scenarioType": record.scenario_type,
        "status": record.status,
        "progress": record.progress,
        "currentStage": record.current_stage,
        "message": stage_message(record.current_stage),
        "error": record.error,
        "eventsCount": record.events_count,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
        "completedAt": record.completed_at.isoformat() if record.completed_at else None,
    }


def entity_tag(body: dict[str, Any]) -> str:
    """A strong ETag of a status body: it changes exactly when something shown changes."""
    digest = hashlib.sha256(repr(sorted(body.items())).encode()).hexdigest()[:32]
    return f'"{digest}"'


def result_view(record: ScenarioRecord) -> dict[str, Any]:
    """The body of `GET /api/scenarios/{id}`: profile, trends, totals and the validation."""
    checkpoint, validation = record.checkpoint, record.validation
    return {
        **status_view(record),
        "seed": record.seed,
        "profile": checkpoint.profile.model_dump(mode="json") if checkpoint.profile else None,
        "trends": [t.model_dump(mode="json") for t in checkpoint.trends or ()],
        "totals": validation.totals.model_dump(mode="json") if validation else None,
        "validation": validation.model_dump(mode="json") if validation else None,
    }


def fail_exhausted_run(
    store: ScenarioStore,
    message: GenerationMessage,
    *,
    attempts: int,
    last_error: str,
    now: Callable[[], datetime] = _now,
) -> bool:
    """Every delivery of `message` failed: mark its run failed, in words a person can act on.

    Refused (False) when the run already finished or another invocation still holds a live
    lease on it, since that one may yet succeed.
    """
    return store.fail(
        message.scenario_id,
        run=message.run,
        error=f"Generation failed after {attempts} attempts: {last_error}",
        now=now(),
    )
