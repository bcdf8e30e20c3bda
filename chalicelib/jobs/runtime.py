"""The job machinery built from settings, for the edges that process jobs (the processor
route, the drain route, the scheduled drain, the local stack's drainer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.jobs.models import BatchReport
from chalicelib.jobs.processor import DrainReport, drain, process_batch
from chalicelib.jobs.queue import JobQueue, settings_queue
from chalicelib.jobs.registry import JobRegistry
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

DEFAULT_BATCH = 10


@dataclass(frozen=True)
class JobRuntime:
    """A queue, the handlers that run its jobs, and where run-once records are kept."""

    queue: JobQueue
    registry: JobRegistry
    persistence: BasePersistenceLayer

    def process_batch(
        self, *, types: Sequence[str] | None = None, limit: int = DEFAULT_BATCH
    ) -> BatchReport:
        """One batch: one claim, the handlers, one finish."""
        return process_batch(
            self.queue, self.registry, types=types, limit=limit, persistence=self.persistence
        )

    def drain(
        self,
        *,
        keep_going: Callable[[], bool],
        types: Sequence[str] | None = None,
        limit: int = DEFAULT_BATCH,
    ) -> DrainReport:
        """Batches until the queue has nothing ready or `keep_going()` is False."""
        return drain(
            self.queue,
            self.registry,
            persistence=self.persistence,
            types=types,
            limit=limit,
            keep_going=keep_going,
        )


def job_runtime(settings: Settings, registry: JobRegistry) -> JobRuntime:
    """The configured queue and run-once store, with `registry`'s handlers.

    Raises `RedisNotConfiguredError` when no Redis is configured.
    """
    from chalicelib.queue.idempotency import settings_persistence

    return JobRuntime(settings_queue(settings), registry, settings_persistence(settings))
