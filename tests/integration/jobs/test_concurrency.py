"""Twenty processors, each with its own client, drain two hundred jobs together: every job
completes on its first claim, and no job's handler runs twice.

Counting handler runs alone would not catch a claim that hands one job to two workers: the
run-once guard hides the second run. So the test also asserts that every job completed on its
first attempt and that no finish came back stale (the second holder's finish would).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from upstash_redis import Redis

from chalicelib.jobs.models import JobSpec
from chalicelib.jobs.processor import DrainReport, drain
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobContext, JobRegistry
from chalicelib.queue.idempotency import persistence_layer
from tests.integration.jobs.conftest import Note

PROCESSORS = 20
JOBS = 200


def test_concurrent_processors_run_every_job_exactly_once(
    make_queue: Callable[..., JobQueue], new_client: Callable[[], Redis]
) -> None:
    runs: Counter[str] = Counter()
    lock = threading.Lock()
    registry = JobRegistry()

    @registry.handler("note", Note)
    def count(payload: Note, job: JobContext) -> dict[str, str]:
        with lock:
            runs[job.job_id] += 1
        return {"text": payload.text}

    producer = make_queue()
    ids = [
        answer.job_id
        for start in range(0, JOBS, 50)
        for answer in producer.enqueue_many(
            [JobSpec(job_type="note", payload={"text": str(n)}) for n in range(start, start + 50)]
        )
    ]
    # Each processor: its own client (connection pool), queue and run-once store.
    workers: list[tuple[JobQueue, BasePersistenceLayer]] = [
        (make_queue(), persistence_layer(new_client())) for _ in range(PROCESSORS)
    ]

    def work(worker: tuple[JobQueue, BasePersistenceLayer]) -> DrainReport:
        queue, persistence = worker
        return drain(queue, registry, persistence=persistence, limit=5)

    with ThreadPoolExecutor(PROCESSORS) as pool:
        reports = list(pool.map(work, workers))

    assert sum(report.claimed for report in reports) == JOBS
    assert sum(report.completed for report in reports) == JOBS
    assert [(report.stale, report.retried, report.dead, report.skipped) for report in reports] == [
        (0, 0, 0, 0)
    ] * PROCESSORS
    assert set(runs) == set(ids)
    assert max(runs.values()) == 1
    endings = {(status.state, status.attempts) for status in map(producer.status, ids) if status}
    assert endings == {("completed", 1)}
    stats = producer.stats().types["note"]
    assert (stats.completed, stats.ready, stats.in_flight, stats.delayed, stats.dead) == (
        JOBS,
        0,
        0,
        0,
        0,
    )
