"""The job queue's values: what is enqueued, claimed, finished and reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

from chalicelib.jobs.names import JobTypeName

JobState = Literal["ready", "delayed", "in_flight", "completed", "dead"]
# What finishing a claimed job did; "stale" when the outcome was ignored because the job had
# been reclaimed (and perhaps claimed again) since this claim began.
# "released": claimed but not run, so handed back with its attempt (due again at once).
FinishState = Literal["completed", "delayed", "released", "dead", "stale"]
# Where a job of a processed batch ended: a finish state, or "skipped" when its visibility
# deadline was too close to start it, so it was not run but released for another claim.
BatchJobState = FinishState | Literal["skipped"]
OutcomeKind = Literal["completed", "retry", "dead", "release"]

MAX_ERROR_CHARS = 500


class _Model(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def from_millis(value: str | int) -> datetime:
    """A Redis millisecond timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def short_error(text: str) -> str:
    """An error message cut to the length a job record keeps."""
    return text[:MAX_ERROR_CHARS]


class JobSpec(_Model):
    """One job to enqueue. `delay` and `dedupe_window` are in seconds.

    A `dedupe_key` is scoped to the job type: within `dedupe_window` of the first enqueue, the
    same type and key return the first job's id and enqueue nothing.
    """

    job_type: JobTypeName
    payload: dict[str, JsonValue] = Field(default_factory=dict)
    dedupe_key: str | None = Field(default=None, min_length=1, max_length=200)
    # At most the retention of a completed job, so a dedupe hit always names a job on record.
    dedupe_window: int = Field(default=3600, ge=1, le=7 * 86_400)
    max_attempts: int = Field(default=3, ge=1, le=25)
    delay: float | None = Field(default=None, ge=0, le=30 * 86_400)


class EnqueuedJob(_Model):
    """The id an enqueue answered, and whether it created the job (False: a dedupe hit)."""

    job_id: str
    created: bool


class JobContext(_Model):
    """What a handler knows about the run it is part of."""

    job_id: str
    job_type: str
    attempt: int
    max_attempts: int


class ClaimedJob(_Model):
    """A job moved to in-flight for this attempt, until `deadline` (epoch seconds).

    `attempt` counts the attempts of the current run (a `retry_dead` starts them over);
    `claim` counts every claim of the job ever made, so it tells this claim from all others.
    """

    job_id: str
    job_type: str
    payload: str  # JSON text, validated by the handler's model
    attempt: int
    max_attempts: int
    claim: int
    deadline: float

    def context(self) -> JobContext:
        """The handler's view of this attempt."""
        return JobContext(
            job_id=self.job_id,
            job_type=self.job_type,
            attempt=self.attempt,
            max_attempts=self.max_attempts,
        )


class JobOutcome(_Model):
    """How one attempt ended, to be recorded by `JobQueue.finish` (for the claim it ran under)."""

    job_id: str
    job_type: str
    attempt: int
    claim: int
    kind: OutcomeKind
    result: dict[str, Any] | None = None
    error: str | None = None

    @classmethod
    def _of(cls, job: ClaimedJob, kind: OutcomeKind, **fields: Any) -> JobOutcome:
        return cls(
            job_id=job.job_id,
            job_type=job.job_type,
            attempt=job.attempt,
            claim=job.claim,
            kind=kind,
            **fields,
        )

    @classmethod
    def completed(cls, job: ClaimedJob, result: dict[str, Any] | None) -> JobOutcome:
        """The handler finished; `result` is kept with the job."""
        return cls._of(job, "completed", result=result)

    @classmethod
    def retry(cls, job: ClaimedJob, error: str) -> JobOutcome:
        """A transient failure: try again after a backoff, or dead-letter when out of attempts."""
        return cls._of(job, "retry", error=short_error(error))

    @classmethod
    def dead(cls, job: ClaimedJob, error: str) -> JobOutcome:
        """A failure no retry can fix: dead-letter the job now."""
        return cls._of(job, "dead", error=short_error(error))

    @classmethod
    def release(cls, job: ClaimedJob) -> JobOutcome:
        """The job was not run: give its attempt back and make it due again at once."""
        return cls._of(job, "release")

    def text(self) -> str:
        """What the finish script stores: the result as JSON, or the error."""
        if self.kind == "completed":
            return json.dumps(self.result, separators=(",", ":"))
        return self.error or ""


class JobStatus(_Model):
    """Everything the queue knows about one job."""

    job_id: str
    job_type: str
    state: JobState
    attempts: int
    max_attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    run_at: datetime | None
    result: dict[str, Any] | None


class DeadLetterJob(_Model):
    """A job that will not run again unless it is retried by hand."""

    job_id: str
    job_type: str
    attempts: int
    max_attempts: int
    last_error: str | None
    payload: dict[str, Any] | str
    created_at: datetime
    failed_at: datetime


class TypeStats(_Model):
    """Jobs of one type in each state. `completed` counts every completion so far."""

    ready: int = 0
    delayed: int = 0
    in_flight: int = 0
    completed: int = 0
    dead: int = 0


class QueueStats(_Model):
    """Per job type counts, and their totals."""

    types: dict[str, TypeStats]

    @property
    def totals(self) -> TypeStats:
        """The counts of every type added up."""
        return TypeStats(
            **{
                name: sum(getattr(stats, name) for stats in self.types.values())
                for name in TypeStats.model_fields
            }
        )

    @property
    def pending(self) -> int:
        """Jobs not finished yet: ready, delayed or in flight."""
        totals = self.totals
        return totals.ready + totals.delayed + totals.in_flight


class FinishedJob(_Model):
    """One job of a processed batch and where it ended."""

    job_id: str
    job_type: str
    attempt: int
    state: BatchJobState
    error: str | None = None


class BatchReport(_Model):
    """What one `process_batch` did."""

    jobs: list[FinishedJob] = Field(default_factory=list)

    def count(self, state: BatchJobState) -> int:
        """How many jobs of the batch ended in `state`."""
        return sum(1 for job in self.jobs if job.state == state)

    def summary(self) -> dict[str, int]:
        """Claimed, completed, retried (delayed), dead, stale and skipped counts."""
        return {
            "claimed": len(self.jobs),
            "completed": self.count("completed"),
            "retried": self.count("delayed"),
            "dead": self.count("dead"),
            "stale": self.count("stale"),
            "skipped": self.count("skipped"),
        }
