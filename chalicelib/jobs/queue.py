"""The job queue over Upstash Redis: every operation is one round trip (one Lua script).

`JobQueue` is the queue itself, built from an `upstash_redis.Redis` and an injected clock and
random source. The module-level functions (`enqueue_job`, `get_job_status`, ...) use a queue
created on first use from the settings, and `enqueue_job`/`enqueue_jobs` also ask QStash to
drain the queue at once.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from random import Random
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from chalicelib.jobs import scripts
from chalicelib.jobs.backoff import RetryBackoff
from chalicelib.jobs.models import (
    ClaimedJob,
    DeadLetterJob,
    EnqueuedJob,
    FinishState,
    JobOutcome,
    JobSpec,
    JobStatus,
    QueueStats,
    TypeStats,
    from_millis,
)
from chalicelib.jobs.names import JOB_ID_PATTERN

if TYPE_CHECKING:
    from upstash_redis import Redis

    from chalicelib.settings import Settings

DEFAULT_NAMESPACE = "longhaul:jobs:{q}"
COMPLETED_RETENTION_SECONDS = 7 * 86_400
# The most due or lost jobs one claim moves per type, so one script never runs for long.
MOVES_PER_CLAIM = 1000
MAX_CLAIM = 1000

_JOB_ID = re.compile(JOB_ID_PATTERN)
# A namespace must hold exactly one non-empty hash tag, so every key of the queue shares a slot.
_NAMESPACE = re.compile(r"^[^{}]*\{[^{}]+\}[^{}]*$")


class QueueUnavailableError(RuntimeError):
    """Redis did not answer, or refused the command (after a timeout it may still have run)."""


class EnqueueFailedError(QueueUnavailableError):
    """The job could not be enqueued: log it and count it; the caller decides what follows."""


class JobNotFoundError(LookupError):
    """No job has this id (never enqueued, or completed and past its retention)."""


@contextmanager
def _redis_errors(error: type[QueueUnavailableError]) -> Iterator[None]:
    """Turn every way a Redis call can fail into `error`."""
    import httpx
    from upstash_redis.errors import UpstashError

    try:
        yield
    except (UpstashError, httpx.HTTPError, ValueError) as exc:
        # ValueError: an answer that is not JSON (a proxy's error page, a cut connection).
        raise error(f"{type(exc).__name__}: {exc}") from exc


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


def _fields(flat: Sequence[Any]) -> dict[str, str]:
    """A field/value list (HGETALL inside Lua) as a dict."""
    return {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


def _json_or_text(text: str) -> dict[str, Any] | str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, dict) else text


def _status(job_id: str, record: Mapping[str, str]) -> JobStatus | None:
    """A job's status from its hash (None when the hash is empty: no such job)."""
    if not record:
        return None
    result, run_at = record.get("result"), record.get("run_at")
    return JobStatus(
        job_id=job_id,
        job_type=record["type"],
        state=record["state"],
        attempts=int(record["attempts"]),
        max_attempts=int(record["max_attempts"]),
        last_error=record.get("error") or None,
        created_at=from_millis(record["created"]),
        updated_at=from_millis(record["updated"]),
        run_at=from_millis(run_at) if run_at else None,
        result=json.loads(result) if result else None,
    )


class JobQueue:
    """A Redis job queue with visibility timeouts, retries with backoff and dead letters.

    Every key lives under `namespace`, which must hold one hash tag (`longhaul:jobs:{q}`), so
    the whole queue sits in one slot. Tests give each queue a namespace of its own.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        clock: Callable[[], float] = time.time,
        rng: Random | None = None,
        visibility_timeout_seconds: float = 120,
        namespace: str = DEFAULT_NAMESPACE,
        completed_retention_seconds: int = COMPLETED_RETENTION_SECONDS,
        backoff: RetryBackoff | None = None,
    ) -> None:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace needs exactly one hash tag like {{q}}: {namespace!r}")
        if visibility_timeout_seconds <= 0:
            raise ValueError("visibility_timeout_seconds must be positive")
        self._redis = redis
        self._scripts = scripts.ScriptRunner(redis)
        self.clock = clock
        self._rng = rng or Random()  # noqa: S311 - jitter, not security
        self.visibility_timeout_seconds = visibility_timeout_seconds
        self.namespace = namespace
        self._retention = completed_retention_seconds
        self._backoff = backoff or RetryBackoff()

    # -- keys ---------------------------------------------------------------------------------

    def _key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    def _job_key(self, job_id: str) -> str:
        return self._key("job", job_id)

    @property
    def _types_key(self) -> str:
        return self._key("types")

    @property
    def _dead_key(self) -> str:
        return self._key("dead")

    @property
    def _counts_key(self) -> str:
        return self._key("counts")

    # -- producing ----------------------------------------------------------------------------

    def enqueue(self, spec: JobSpec) -> EnqueuedJob:
        """Enqueue one job (one round trip); a live dedupe key answers the existing job."""
        (enqueued,) = self.enqueue_many([spec])
        return enqueued

    def enqueue_many(self, specs: Sequence[JobSpec]) -> list[EnqueuedJob]:
        """Enqueue several jobs in one round trip; the answers are in the order of `specs`.

        Raises `EnqueueFailedError` when Redis cannot be reached or refuses the script.
        """
        if not specs:
            return []
        now = self.clock()
        keys, args = [self._types_key], [_millis(now)]
        for spec in specs:
            job_id = uuid.uuid4().hex
            keys += [
                self._key("ready", spec.job_type),
                self._key("delayed", spec.job_type),
                self._job_key(job_id),
                self._key("dedupe", spec.job_type, spec.dedupe_key or "-"),
            ]
            args += [
                job_id,
                spec.job_type,
                json.dumps(spec.payload, separators=(",", ":")),
                _millis(spec.dedupe_window if spec.dedupe_key is not None else 0),
                str(spec.max_attempts),
                _millis(now + (spec.delay or 0)),
            ]
        with _redis_errors(EnqueueFailedError):
            answers = self._scripts.run(scripts.ENQUEUE, keys, args)
        return [
            EnqueuedJob(job_id=str(job_id), created=bool(created)) for job_id, created in answers
        ]

    # -- consuming ----------------------------------------------------------------------------

    def claim(self, *, types: Sequence[str] | None = None, limit: int = 10) -> list[ClaimedJob]:
        """Move up to `limit` ready jobs of `types` (None: every type) to in-flight.

        The same round trip first makes due delayed jobs ready and reclaims in-flight jobs
        whose visibility deadline has passed (dead-lettering those out of attempts).
        """
        if not 1 <= limit <= MAX_CLAIM:
            raise ValueError(f"limit must be between 1 and {MAX_CLAIM}")
        if types is not None and not types:
            return []
        now = self.clock()
        deadline = now + self.visibility_timeout_seconds
        keys = [self._types_key, self._dead_key, self._counts_key]
        named = list(dict.fromkeys(types or ()))
        for job_type in named:
            keys += [
                self._key("ready", job_type),
                self._key("delayed", job_type),
                self._key("inflight", job_type),
            ]
        args = [
            _millis(now),
            _millis(deadline),
            str(limit),
            str(MOVES_PER_CLAIM),
            self.namespace,
            *named,
        ]
        with _redis_errors(QueueUnavailableError):
            rows = self._scripts.run(scripts.CLAIM, keys, args)
        return [
            ClaimedJob(
                job_id=str(job_id),
                job_type=str(job_type),
                payload=str(payload),
                attempt=int(attempt),
                max_attempts=int(max_attempts),
                claim=int(claim),
                deadline=int(_millis(deadline)) / 1000,
            )
            for job_id, job_type, payload, attempt, max_attempts, claim in rows
        ]

    def seconds_left(self, job: ClaimedJob) -> float:
        """Time until `job`'s visibility deadline, when another worker may reclaim it."""
        return job.deadline - self.clock()

    def finish(self, outcomes: Sequence[JobOutcome]) -> list[FinishState]:
        """Record how attempts ended, all in one round trip; answers each job's new state.

        A retry runs again after the backoff for its attempt, or is dead-lettered when it was
        the last attempt. An outcome of a claim that no longer holds its job (reclaimed since,
        and perhaps claimed again, even after a `retry_dead`) is "stale".
        """
        if not outcomes:
            return []
        now = self.clock()
        keys, args = [self._dead_key, self._counts_key], [_millis(now), str(self._retention)]
        for outcome in outcomes:
            keys += [
                self._job_key(outcome.job_id),
                self._key("inflight", outcome.job_type),
                self._key("delayed", outcome.job_type),
            ]
            retry_at = 0.0
            if outcome.kind == "retry":
                retry_at = now + self._backoff.delay_seconds(outcome.attempt, self._rng)
            args += [
                outcome.job_id,
                outcome.job_type,
                str(outcome.claim),
                outcome.kind,
                outcome.text(),
                _millis(retry_at),
            ]
        with _redis_errors(QueueUnavailableError):
            states: list[FinishState] = self._scripts.run(scripts.FINISH, keys, args)
        return states

    # -- inspecting ---------------------------------------------------------------------------

    def status(self, job_id: str) -> JobStatus | None:
        """The job's state and history, or None for an unknown id (one round trip)."""
        return self.statuses([job_id])[0]

    def statuses(self, job_ids: Sequence[str]) -> list[JobStatus | None]:
        """Each job's status, None for an unknown id, all in one round trip (a pipeline)."""
        known = [job_id for job_id in job_ids if _JOB_ID.match(job_id)]
        records: dict[str, dict[str, str]] = {}
        if known:
            pipeline = self._redis.pipeline()
            for job_id in known:
                pipeline.hgetall(self._job_key(job_id))
            with _redis_errors(QueueUnavailableError):
                answers: list[Any] = pipeline.exec()  # one HGETALL (a dict) per job
            records = dict(zip(known, answers, strict=True))
        return [_status(job_id, records.get(job_id) or {}) for job_id in job_ids]

    def stats(self) -> QueueStats:
        """Per type: ready, delayed, in flight, completed so far, dead (one round trip)."""
        with _redis_errors(QueueUnavailableError):
            rows = self._scripts.run(
                scripts.STATS, [self._types_key, self._counts_key], [self.namespace]
            )
        return QueueStats(
            types={
                str(name): TypeStats(
                    ready=ready, delayed=delayed, in_flight=in_flight, completed=done, dead=dead
                )
                for name, ready, delayed, in_flight, done, dead in rows
            }
        )

    def dead_letters(self, limit: int = 50) -> list[DeadLetterJob]:
        """The latest dead-lettered jobs, newest first (one round trip)."""
        if not 1 <= limit <= MAX_CLAIM:
            raise ValueError(f"limit must be between 1 and {MAX_CLAIM}")
        with _redis_errors(QueueUnavailableError):
            rows = self._scripts.run(
                scripts.DEAD_LETTERS, [self._dead_key], [self.namespace, str(limit)]
            )
        letters = []
        for job_id, flat in rows:
            record = _fields(flat)
            if "type" not in record:
                continue  # removed from Redis by hand; nothing left to show
            letters.append(
                DeadLetterJob(
                    job_id=str(job_id),
                    job_type=record["type"],
                    attempts=int(record["attempts"]),
                    max_attempts=int(record["max_attempts"]),
                    last_error=record.get("error") or None,
                    payload=_json_or_text(record.get("payload", "")),
                    created_at=from_millis(record["created"]),
                    failed_at=from_millis(record["updated"]),
                )
            )
        return letters

    def retry_dead(self, job_id: str) -> bool:
        """Put a dead job back in its ready list with its attempts reset.

        False when the job exists but is not dead; raises `JobNotFoundError` for an unknown id.
        """
        if not _JOB_ID.match(job_id):
            raise JobNotFoundError(job_id)
        with _redis_errors(QueueUnavailableError):
            answer = self._scripts.run(
                scripts.RETRY_DEAD,
                [self._dead_key, self._counts_key, self._job_key(job_id)],
                [_millis(self.clock()), self.namespace, job_id],
            )
        if int(answer) < 0:
            raise JobNotFoundError(job_id)
        return int(answer) == 1


# -- the default queue and the functions ----------------------------------------------


@lru_cache(maxsize=4)
def settings_queue(settings: Settings) -> JobQueue:
    """The queue on the Upstash Redis of `settings` (one per settings, made on first use).

    Raises `RedisNotConfiguredError` when no Redis is configured.
    """
    from chalicelib.redis_client import upstash_redis_client

    return JobQueue(
        upstash_redis_client(settings),
        visibility_timeout_seconds=settings.job_visibility_timeout_seconds,
        namespace=f"longhaul:jobs:{{{settings.job_queue_name}}}",
    )


def default_queue() -> JobQueue:
    """The queue on the configured Upstash Redis (`settings_queue` of the current settings)."""
    from chalicelib.settings import get_settings

    return settings_queue(get_settings())


def enqueue_job(
    job_type: str,
    payload: Mapping[str, Any] | BaseModel,
    *,
    dedupe_key: str | None = None,
    dedupe_window: int = 3600,
    max_attempts: int = 3,
    delay: float | None = None,
) -> str:
    """Enqueue one job on the default queue and return its id (the existing one on a dedupe
    hit). Raises `EnqueueFailedError` when the job could not be enqueued."""
    spec = JobSpec(
        job_type=job_type,
        payload=_payload_dict(payload),
        dedupe_key=dedupe_key,
        dedupe_window=dedupe_window,
        max_attempts=max_attempts,
        delay=delay,
    )
    (job_id,) = enqueue_jobs([spec])
    return job_id


def enqueue_jobs(specs: Sequence[JobSpec]) -> list[str]:
    """Enqueue several jobs on the default queue in one round trip; their ids, in order.

    When any job is new and it is ready now, QStash is asked to drain the queue at once (a
    failure of that request is logged and counted, never raised). Raises `EnqueueFailedError`
    when the jobs could not be enqueued.
    """
    from chalicelib.jobs.drain_request import request_drain
    from chalicelib.redis_client import RedisNotConfiguredError
    from chalicelib.settings import get_settings

    settings = get_settings()
    try:
        queue = settings_queue(settings)
    except RedisNotConfiguredError as exc:
        raise EnqueueFailedError(str(exc)) from exc
    enqueued = queue.enqueue_many(specs)
    fresh = [
        (job.job_id, spec.job_type)
        for job, spec in zip(enqueued, specs, strict=True)
        if job.created and not spec.delay
    ]
    if fresh:
        request_drain(
            [job_id for job_id, _ in fresh],
            sorted({job_type for _, job_type in fresh}),
            settings,
        )
    return [job.job_id for job in enqueued]


def _payload_dict(payload: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json", by_alias=True)
    return dict(payload)


def get_job_status(job_id: str) -> JobStatus | None:
    """The job's status on the default queue, or None when there is no such job."""
    return default_queue().status(job_id)


def get_job_statuses(job_ids: Sequence[str]) -> list[JobStatus | None]:
    """Several jobs' statuses on the default queue in one round trip (None: no such job)."""
    return default_queue().statuses(job_ids)


def get_queue_stats() -> QueueStats:
    """Per type counts of the default queue."""
    return default_queue().stats()


def get_dead_letter_jobs(limit: int = 50) -> list[DeadLetterJob]:
    """The default queue's latest dead-lettered jobs, newest first."""
    return default_queue().dead_letters(limit)


def retry_dead_letter_job(job_id: str) -> bool:
    """Make a dead job of the default queue ready again; False when it is not dead.

    Raises `JobNotFoundError` for an unknown id.
    """
    return default_queue().retry_dead(job_id)
