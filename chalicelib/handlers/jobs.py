"""Job queue edges: the processor route (bearer token), the drain route QStash calls, and the
scheduled drain. Each loads the job handlers before it touches a job."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from chalice.app import Blueprint, CloudWatchEvent, Rate, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.handlers.http import (
    HttpProblem,
    answers_problems,
    json_response,
    parse_body,
    validated,
)
from chalicelib.handlers.qstash_edge import outcome_response, qstash_consumer, verified_body
from chalicelib.jobs.names import DRAIN_PATH, JobTypeName
from chalicelib.json_documents import UnreadableJsonError, read_json

if TYPE_CHECKING:
    from chalicelib.jobs.runtime import JobRuntime

blueprint = Blueprint(__name__)

PROCESS_PATH = "/api/jobs/process"
# The drain route runs in the API Lambda, which API Gateway stops waiting for after 29 s.
DRAIN_ROUTE_SECONDS = 20.0


class ProcessRequest(BaseModel):
    """The processor route's body."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    action: Literal["process-batch", "stats", "dead-letters", "retry"]
    limit: int = Field(default=10, ge=1, le=100)
    types: list[JobTypeName] | None = Field(default=None, min_length=1, max_length=50)
    job_id: str | None = Field(default=None, alias="jobId", min_length=1, max_length=64)


def _dumped(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def _perform(request: ProcessRequest, runtime: JobRuntime) -> dict[str, Any]:
    """The answer to one processor action."""
    from chalicelib.jobs.queue import JobNotFoundError

    queue = runtime.queue
    if request.action == "process-batch":
        report = runtime.process_batch(types=request.types, limit=request.limit)
        return {**report.summary(), "jobs": [_dumped(job) for job in report.jobs]}
    if request.action == "stats":
        stats = queue.stats()
        return {
            "types": {name: _dumped(counts) for name, counts in stats.types.items()},
            "totals": _dumped(stats.totals),
        }
    if request.action == "dead-letters":
        return {"jobs": [_dumped(job) for job in queue.dead_letters(request.limit)]}
    if request.job_id is None:
        raise HttpProblem(
            400, "invalid request", fields=[{"field": "jobId", "reason": "required to retry"}]
        )
    try:
        retried = queue.retry_dead(request.job_id)
    except JobNotFoundError as exc:
        raise HttpProblem(404, "no such job") from exc
    if not retried:
        status = queue.status(request.job_id)
        state = status.state if status else "gone"
        raise HttpProblem(409, f"only a dead job can be retried; this one is {state}")
    return {"jobId": request.job_id, "state": "ready"}


@blueprint.route(PROCESS_PATH, methods=["POST"])
@answers_problems
def process() -> Response:
    """Run a batch, or read stats or dead letters, or retry a dead job (bearer token only)."""
    from chalicelib.handlers.bearer import require_bearer
    from chalicelib.jobs.catalogue import load_job_handlers
    from chalicelib.jobs.queue import QueueUnavailableError
    from chalicelib.jobs.runtime import job_runtime
    from chalicelib.redis_client import RedisNotConfiguredError
    from chalicelib.settings import get_settings

    settings = get_settings()
    current = blueprint.current_request
    # Refused before anything else happens, whatever the body says.
    require_bearer(current, settings.job_processor_secret_token)
    request = parse_body(current, ProcessRequest)
    registry = load_job_handlers()
    try:
        body = _perform(request, job_runtime(settings, registry))
    except (QueueUnavailableError, RedisNotConfiguredError) as exc:
        raise HttpProblem(503, "the job queue is unavailable; try again") from exc
    return json_response({"action": request.action, **body})


@blueprint.route(DRAIN_PATH, methods=["POST"])
@qstash_consumer
def drain() -> Response:
    """QStash asks for a drain after an enqueue: process batches for up to 20 s."""
    from chalicelib.jobs.catalogue import load_job_handlers
    from chalicelib.jobs.drain_request import DrainRequest
    from chalicelib.jobs.queue import QueueUnavailableError
    from chalicelib.jobs.runtime import job_runtime
    from chalicelib.queue.outcome import DeliveryOutcome
    from chalicelib.redis_client import RedisNotConfiguredError
    from chalicelib.settings import get_settings

    settings = get_settings()
    body = verified_body(blueprint.current_request, settings, DRAIN_PATH)
    registry = load_job_handlers()
    try:
        request = validated(DrainRequest, read_json(body))
    except UnreadableJsonError as exc:
        raise HttpProblem(400, f"body is not JSON: {exc}") from exc
    started = time.monotonic()
    try:
        report = job_runtime(settings, registry).drain(
            types=request.types,
            keep_going=lambda: time.monotonic() - started < DRAIN_ROUTE_SECONDS,
        )
    except (QueueUnavailableError, RedisNotConfiguredError) as exc:
        return outcome_response(DeliveryOutcome.retry_later(f"job queue unavailable: {exc}", 30))
    return json_response({"ok": True, **report.model_dump()})


@blueprint.schedule(Rate(1, unit=Rate.MINUTES), name="drain_jobs")
def drain_jobs(event: CloudWatchEvent) -> dict[str, Any]:
    """Every minute: drain every job type while a whole visibility timeout of Lambda time is
    left, so no job claimed here outlives the invocation that claimed it."""
    from chalicelib.jobs.catalogue import load_job_handlers
    from chalicelib.jobs.queue import QueueUnavailableError
    from chalicelib.jobs.runtime import job_runtime
    from chalicelib.observability import count_metric, logger
    from chalicelib.redis_client import RedisNotConfiguredError
    from chalicelib.settings import get_settings

    registry = load_job_handlers()
    settings = get_settings()
    context: Any = event.context
    reserve_ms = settings.job_visibility_timeout_seconds * 1000
    try:
        report = job_runtime(settings, registry).drain(
            keep_going=lambda: context.get_remaining_time_in_millis() > reserve_ms
        )
    except (QueueUnavailableError, RedisNotConfiguredError) as exc:
        # The next minute's run tries again; Lambda's own retries would only pile up.
        logger.error("scheduled job drain failed", extra={"error": str(exc)})
        count_metric("JobDrainFailed")
        return {"error": str(exc)}
    logger.info("scheduled job drain", extra=report.model_dump())
    return report.model_dump()
