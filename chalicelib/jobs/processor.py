"""Run claimed jobs through their handlers: one claim, the handlers, one finish per batch.

Every handler run goes through `run_once` keyed on the job id, so a job whose effect completed
but whose finish call was lost (a crash, a timeout) is not run twice when it is reclaimed: the
retry replays the stored result. The run's in-progress record expires at the job's visibility
deadline, so a crashed run stops blocking its reclaimed retry exactly when the retry can start.
For the same reason a job is not started when its deadline is too close (a batch's earlier jobs
took the time): past the deadline another worker may reclaim it and run it alongside.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.jobs.models import BatchReport, ClaimedJob, FinishedJob, FinishState, JobOutcome
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobRegistry, PermanentJobError
from chalicelib.observability import count_metric, logger
from chalicelib.queue.idempotency import StillRunningError, run_once

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


# The error a skipped job is reported with (it is released, not failed: no error is stored).
SKIPPED_ERROR = "skipped: deadline"


class VisibilityWindow(LambdaContext):
    """What `run_once` reads from a Lambda context: the time left, here until the deadline."""

    def __init__(self, seconds_left: Callable[[], float]) -> None:
        self._seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]  # static upstream
        """Milliseconds until the job's visibility deadline (0 once it has passed)."""
        return max(0, int(self._seconds_left() * 1000))


class DrainReport(BaseModel):
    """What a drain did, over all its batches."""

    model_config = ConfigDict(frozen=True)

    batches: int = 0
    claimed: int = 0
    completed: int = 0
    retried: int = 0
    dead: int = 0
    stale: int = 0
    skipped: int = 0


def start_margin_seconds(visibility_timeout_seconds: float) -> float:
    """The least time before its visibility deadline that a job may still be started.

    A tenth of the visibility timeout and at least 1 s, but at most half the timeout (which only
    a timeout under 2 s reaches), so a freshly claimed job can always start.
    """
    return min(max(1.0, visibility_timeout_seconds / 10), visibility_timeout_seconds / 2)


def _payload_problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'payload'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


def run_job(
    job: ClaimedJob,
    registry: JobRegistry,
    *,
    persistence: BasePersistenceLayer,
    seconds_left: Callable[[], float],
) -> JobOutcome:
    """Run one claimed job's handler and say how the attempt ended (never raises for it).

    `seconds_left` tells the time until the job's visibility deadline.
    """
    handler = registry.get(job.job_type)
    if handler is None:
        return JobOutcome.dead(job, f"unknown job type {job.job_type!r}")
    try:
        payload = handler.payload_model.model_validate_json(job.payload)
    except ValidationError as exc:
        return JobOutcome.dead(job, f"invalid payload: {_payload_problems(exc)}")
    context = job.context()

    def effect() -> dict[str, Any] | None:
        result = handler.run(payload, context)
        if result is not None and not isinstance(result, dict):
            raise PermanentJobError(f"handler returned {type(result).__name__}, not a dict")
        return result

    logger.append_keys(job_id=job.job_id, job_type=job.job_type, attempt=job.attempt)
    try:
        once = run_once(
            f"job:{job.job_id}",
            effect,
            persistence=persistence,
            lambda_context=VisibilityWindow(seconds_left),
        )
    except StillRunningError:
        return JobOutcome.retry(job, "still running")
    except PermanentJobError as exc:
        logger.warning("job failed permanently", extra={"error": str(exc)})
        return JobOutcome.dead(job, str(exc) or "permanent failure")
    except Exception as exc:  # any handler failure is the job's, and is retried
        logger.warning("job failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        return JobOutcome.retry(job, f"{type(exc).__name__}: {exc}")
    finally:
        # The next job's lines (and a warm container's next invocation) must not carry these.
        logger.remove_keys(["job_id", "job_type", "attempt"])
    return JobOutcome.completed(job, once.value)


def process_batch(
    queue: JobQueue,
    registry: JobRegistry,
    *,
    types: Sequence[str] | None = None,
    limit: int = 10,
    persistence: BasePersistenceLayer,
) -> BatchReport:
    """Claim up to `limit` jobs of `types` (None: every type), run them, record the outcomes.

    A job whose visibility deadline is less than `start_margin_seconds` away when its turn
    comes is not run (its run-once record would lapse at that deadline, letting a reclaim run it
    alongside): it is released with its attempt given back and reported as "skipped". Redis is
    called twice per batch (claim, finish) plus what `run_once` needs per job.
    """
    jobs = queue.claim(types=types, limit=limit)
    if not jobs:
        return BatchReport()
    margin = start_margin_seconds(queue.visibility_timeout_seconds)
    outcomes: list[JobOutcome] = []
    for job in jobs:
        seconds_left = partial(queue.seconds_left, job)
        left = seconds_left()
        if left < margin:
            _skipped_for_deadline(job, left)
            outcomes.append(JobOutcome.release(job))
        else:
            outcomes.append(
                run_job(job, registry, persistence=persistence, seconds_left=seconds_left)
            )
    states = queue.finish(outcomes)
    report = BatchReport(
        jobs=[_finished(outcome, state) for outcome, state in zip(outcomes, states, strict=True)]
    )
    for finished in report.jobs:
        if finished.state == "dead":
            logger.error(
                "job dead-lettered",
                extra={
                    "job_id": finished.job_id,
                    "job_type": finished.job_type,
                    "error": finished.error,
                },
            )
            count_metric("JobDeadLettered", jobType=finished.job_type)
    return report


def _skipped_for_deadline(job: ClaimedJob, seconds_left: float) -> None:
    logger.warning(
        "job skipped: deadline",
        extra={
            "job_id": job.job_id,
            "job_type": job.job_type,
            "attempt": job.attempt,
            "seconds_left": round(seconds_left, 3),
        },
    )
    count_metric("JobSkippedDeadline", jobType=job.job_type)


def _finished(outcome: JobOutcome, state: FinishState) -> FinishedJob:
    if outcome.kind == "release":
        return FinishedJob(
            job_id=outcome.job_id,
            job_type=outcome.job_type,
            attempt=outcome.attempt,
            state="skipped" if state == "released" else state,
            error=SKIPPED_ERROR,
        )
    return FinishedJob(
        job_id=outcome.job_id,
        job_type=outcome.job_type,
        attempt=outcome.attempt,
        state=state,
        error=outcome.error,
    )


def drain(
    queue: JobQueue,
    registry: JobRegistry,
    *,
    persistence: BasePersistenceLayer,
    types: Sequence[str] | None = None,
    limit: int = 10,
    keep_going: Callable[[], bool] = lambda: True,
) -> DrainReport:
    """Process batches until one claims nothing or `keep_going()` says stop (checked before
    each batch: a caller running out of time stops before claiming more)."""
    counts: Counter[str] = Counter()
    batches = 0
    while keep_going():
        report = process_batch(queue, registry, types=types, limit=limit, persistence=persistence)
        if not report.jobs:
            break
        batches += 1
        counts.update(report.summary())
    return DrainReport(batches=batches, **counts)
