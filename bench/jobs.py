"""What a job costs in Redis round trips and time, next to a naive implementation.

Runs the Upstash REST endpoint (the real Redis when one answers) and the app in this process,
on free ports, and measures in the same run:
- the queue's lifecycle per job (enqueue, claim, complete) one job at a time and in batches of
  10 and 100, in round trips (HTTP requests the SDK sends, counted on its client) and time;
- the same lifecycle done the naive way the seed did it: a dedupe exists-check then SET, HSET,
  LPUSH to enqueue; RPOP, HGETALL, HSET to claim; HSET, EXPIRE, HINCRBY to complete;
- jobs per second through `process_batch` in-process and through `POST /api/jobs/process`
  (a no-op handler, run-once records included), beside the naive loop claiming and completing
  the same number of jobs in-process (it keeps no run-once records).
The app is pointed at a queue namespace of the benchmark's own, deleted afterwards.

Run: python -m bench.jobs [--jobs N] [--http-jobs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
from pydantic import BaseModel, SecretStr
from upstash_redis import Redis

from bench.verdict import report_targets
from chalicelib.jobs import runtime
from chalicelib.jobs.models import JobContext, JobOutcome, JobSpec
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobRegistry
from chalicelib.jobs.runtime import JobRuntime
from chalicelib.queue.idempotency import persistence_layer
from chalicelib.settings import get_settings
from devstack.stack import LocalStack, StackOptions

TARGET_SINGLE = 3.0
TARGET_BATCH_100 = 1.2
BENCH_JOB_TYPE = "bench_noop"
NAIVE_RETENTION_SECONDS = 3600


class RoundTripCounter:
    """Counts the HTTP requests Upstash Redis clients send: one per round trip."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def attach(self, redis: Redis) -> Redis:
        """Count `redis`'s requests from now on (its HTTP client and timeout are kept)."""
        http = redis._http._client
        hooks = http.event_hooks
        http.event_hooks = {**hooks, "request": [*hooks.get("request", []), self._seen]}
        return redis

    def _seen(self, request: httpx.Request) -> None:
        with self._lock:
            self.count += 1

    @contextmanager
    def measuring(self) -> Iterator[Callable[[], int]]:
        """Round trips made inside the block (so far, while it runs), read by calling the
        yielded function."""
        start = self.count
        end: int | None = None

        def made() -> int:
            return (self.count if end is None else end) - start

        try:
            yield made
        finally:
            end = self.count


class NaiveQueue:
    """A job queue of separate commands, each its own round trip (the seed's way)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace

    def enqueue(self, job_type: str, payload: dict[str, Any], dedupe_key: str) -> str:
        """Exists-check and set the dedupe key, store the job, push its id."""
        dedupe = f"{self._ns}:dedupe:{dedupe_key}"
        existing = self._redis.get(dedupe)
        if existing is not None:
            return str(existing)
        job_id = uuid.uuid4().hex
        self._redis.set(dedupe, job_id, ex=3600)
        self._redis.hset(
            f"{self._ns}:job:{job_id}",
            values={"type": job_type, "payload": json.dumps(payload), "state": "ready"},
        )
        self._redis.lpush(f"{self._ns}:ready:{job_type}", job_id)
        return job_id

    def claim(self, job_type: str) -> tuple[str, dict[str, str]] | None:
        """Pop an id, read its job, mark it in flight."""
        job_id = self._redis.rpop(f"{self._ns}:ready:{job_type}")
        if job_id is None:
            return None
        key = f"{self._ns}:job:{job_id}"
        job = self._redis.hgetall(key)
        attempts = int(job.get("attempts", 0)) + 1
        self._redis.hset(key, values={"state": "in_flight", "attempts": attempts})
        return str(job_id), job

    def complete(self, job_type: str, job_id: str, result: dict[str, Any]) -> None:
        """Mark the job completed, let it expire, count it."""
        key = f"{self._ns}:job:{job_id}"
        self._redis.hset(key, values={"state": "completed", "result": json.dumps(result)})
        self._redis.expire(key, NAIVE_RETENTION_SECONDS)
        self._redis.hincrby(f"{self._ns}:stats", f"completed:{job_type}", 1)


@dataclass(frozen=True)
class Lifecycle:
    """Round trips and seconds for `jobs` jobs enqueued, claimed and completed."""

    jobs: int
    round_trips: int
    seconds: float

    @property
    def per_job(self) -> float:
        """Round trips per job."""
        return self.round_trips / self.jobs

    @property
    def ms_per_job(self) -> float:
        """Milliseconds per job."""
        return self.seconds * 1000 / self.jobs


def _specs(count: int) -> list[JobSpec]:
    return [
        JobSpec(job_type=BENCH_JOB_TYPE, payload={"n": n}, dedupe_key=uuid.uuid4().hex)
        for n in range(count)
    ]


def queue_lifecycle(queue: JobQueue, counter: RoundTripCounter, jobs: int, batch: int) -> Lifecycle:
    """Enqueue, claim and complete `jobs` jobs, `batch` at a time."""
    started = time.perf_counter()
    with counter.measuring() as round_trips:
        for _ in range(jobs // batch):
            queue.enqueue_many(_specs(batch))
            claimed = queue.claim(types=[BENCH_JOB_TYPE], limit=batch)
            queue.finish([JobOutcome.completed(job, None) for job in claimed])
        return Lifecycle(jobs, round_trips(), time.perf_counter() - started)


def naive_lifecycle(naive: NaiveQueue, counter: RoundTripCounter, jobs: int) -> Lifecycle:
    """The same lifecycle the naive way (it has no batching: every job pays in full)."""
    started = time.perf_counter()
    with counter.measuring() as round_trips:
        for n in range(jobs):
            naive.enqueue(BENCH_JOB_TYPE, {"n": n}, uuid.uuid4().hex)
            claimed = naive.claim(BENCH_JOB_TYPE)
            if claimed is not None:
                naive.complete(BENCH_JOB_TYPE, claimed[0], {})
        return Lifecycle(jobs, round_trips(), time.perf_counter() - started)


def endpoint_throughput(
    app_url: str, token: str, queue: JobQueue, counter: RoundTripCounter, jobs: int, limit: int
) -> Lifecycle:
    """Seconds and round trips to process `jobs` ready jobs through the processor route."""
    for start in range(0, jobs, 100):
        queue.enqueue_many(_specs(min(100, jobs - start)))
    body = {"action": "process-batch", "limit": limit, "types": [BENCH_JOB_TYPE]}
    processed = 0
    with (
        httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        counter.measuring() as round_trips,
    ):
        started = time.perf_counter()
        while processed < jobs:
            answer = http.post(f"{app_url}/api/jobs/process", json=body)
            answer.raise_for_status()
            claimed = int(answer.json()["claimed"])
            if claimed == 0:
                break
            processed += claimed
        seconds = time.perf_counter() - started
        return Lifecycle(processed, round_trips(), seconds)


def processor_throughput(
    jobs_runtime: JobRuntime, counter: RoundTripCounter, jobs: int, limit: int
) -> Lifecycle:
    """Seconds and round trips to process `jobs` ready jobs with `process_batch`, in-process."""
    for start in range(0, jobs, 100):
        jobs_runtime.queue.enqueue_many(_specs(min(100, jobs - start)))
    processed = 0
    with counter.measuring() as round_trips:
        started = time.perf_counter()
        while claimed := len(jobs_runtime.process_batch(types=[BENCH_JOB_TYPE], limit=limit).jobs):
            processed += claimed
        return Lifecycle(processed, round_trips(), time.perf_counter() - started)


def naive_throughput(naive: NaiveQueue, counter: RoundTripCounter, jobs: int) -> Lifecycle:
    """Seconds and round trips to claim and complete `jobs` naive jobs, in-process."""
    for n in range(jobs):
        naive.enqueue(BENCH_JOB_TYPE, {"n": n}, uuid.uuid4().hex)
    processed = 0
    with counter.measuring() as round_trips:
        started = time.perf_counter()
        while (claimed := naive.claim(BENCH_JOB_TYPE)) is not None:
            naive.complete(BENCH_JOB_TYPE, claimed[0], {})
            processed += 1
        return Lifecycle(processed, round_trips(), time.perf_counter() - started)


class BenchPayload(BaseModel):
    """The no-op job's payload."""

    n: int


def _noop(payload: BenchPayload, job: JobContext) -> None:
    return None


def _delete_keys(redis: Redis, pattern: str) -> None:
    cursor = 0
    while True:
        cursor, keys = redis.scan(cursor, match=pattern, count=1000)
        if keys:
            redis.delete(*keys)
        if cursor == 0:
            return


def _lifecycle_row(name: str, ours: Lifecycle, naive: Lifecycle) -> str:
    fewer = naive.per_job / ours.per_job
    faster = naive.ms_per_job / ours.ms_per_job
    return (
        f"{name:<26}{ours.per_job:>8.2f}{naive.per_job:>8.2f}{fewer:>8.1f}x"
        f"{ours.ms_per_job:>10.3f}{naive.ms_per_job:>10.3f}{faster:>8.1f}x"
    )


def _throughput_row(name: str, ours: Lifecycle, naive: Lifecycle) -> str:
    ours_rate, naive_rate = ours.jobs / ours.seconds, naive.jobs / naive.seconds
    return (
        f"{name:<26}{ours.per_job:>8.2f}{naive.per_job:>8.2f}{naive.per_job / ours.per_job:>8.1f}x"
        f"{ours_rate:>10.0f}{naive_rate:>10.0f}{ours_rate / naive_rate:>8.2f}x"
    )


def route_latency_ms(app_url: str, token: str, requests: int = 21) -> float:
    """The median time of a `stats` call through the route (one Redis round trip)."""
    timings = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for _ in range(requests):
            started = time.perf_counter()
            http.post(f"{app_url}/api/jobs/process", json={"action": "stats"}).raise_for_status()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def run(jobs: int, http_jobs: int) -> tuple[list[str], list[str]]:
    """Measure everything on a fresh local stack; the table's lines and the missed targets."""
    stack = LocalStack(StackOptions.on_free_ports(Path(tempfile.mkdtemp()))).start(
        only=["redis-rest", "app"]
    )
    print(f"redis: {next(s.detail for s in stack.services if s.name == 'redis-rest')}")
    namespace = f"longhaul-bench:{{{uuid.uuid4().hex}}}"
    settings = get_settings()
    counter = RoundTripCounter()
    redis = counter.attach(
        Redis(
            settings.upstash_redis_rest_url or "",
            (settings.upstash_redis_rest_token or SecretStr("")).get_secret_value(),
            rest_retries=0,
            allow_telemetry=False,
        )
    )
    queue = JobQueue(redis, namespace=namespace)
    naive = NaiveQueue(redis, f"{namespace}:naive")
    bench_registry = JobRegistry()
    bench_registry.handler(BENCH_JOB_TYPE, BenchPayload)(_noop)
    # The app's job edges, in this process, work on this benchmark's queue and handler; the
    # stack's own drainer keeps to the default queue, so it never takes a job from here.
    bench_runtime = JobRuntime(queue, bench_registry, persistence_layer(redis))
    token = (settings.job_processor_secret_token or SecretStr("")).get_secret_value()
    lines, missed = [], []
    try:
        with mock.patch.object(runtime, "job_runtime", return_value=bench_runtime):
            # Warm up: scripts loaded (NOSCRIPT once each), connections open, imports done.
            queue_lifecycle(queue, counter, 20, 10)
            naive_lifecycle(naive, counter, 20)
            endpoint_throughput(settings.public_base_url or "", token, queue, counter, 20, 10)

            lines.append(f"{'lifecycle per job':<26}{'round trips/job':>25}{'ms/job':>28}")
            lines.append(
                f"{'(enqueue, claim, complete)':<26}{'ours':>8}{'naive':>8}{'fewer':>9}"
                f"{'ours':>10}{'naive':>10}{'faster':>9}"
            )
            naive_cycle = naive_lifecycle(naive, counter, jobs)
            for batch, label in (
                (1, "one at a time"),
                (10, "batches of 10"),
                (100, "batches of 100"),
            ):
                ours = queue_lifecycle(queue, counter, jobs, batch)
                lines.append(_lifecycle_row(label, ours, naive_cycle))
                target = TARGET_SINGLE if batch == 1 else TARGET_BATCH_100 if batch == 100 else None
                if target is not None and ours.per_job > target:
                    missed.append(f"{label}: {ours.per_job:.2f} round trips/job > {target:g}")

            lines.append("")
            lines.append(f"{'processing':<26}{'round trips/job':>25}{'jobs/s':>28}")
            lines.append(
                f"{'(claim, run, complete)':<26}{'ours':>8}{'naive':>8}{'fewer':>9}"
                f"{'ours':>10}{'naive':>10}{'ratio':>9}"
            )
            naive_run = naive_throughput(naive, counter, http_jobs)
            in_process = processor_throughput(bench_runtime, counter, http_jobs, 10)
            lines.append(_throughput_row("in-process, limit 10", in_process, naive_run))
            for limit in (10, 100):
                ours = endpoint_throughput(
                    settings.public_base_url or "", token, queue, counter, http_jobs, limit
                )
                if ours.jobs != http_jobs:
                    missed.append(f"route, limit {limit}: processed {ours.jobs} of {http_jobs}")
                lines.append(_throughput_row(f"route, limit {limit}", ours, naive_run))
            latency = route_latency_ms(settings.public_base_url or "", token)
    finally:
        _delete_keys(redis, f"{namespace}*")
        stack.stop()
    lines.append("")
    lines.append(
        f"one request to the local app costs {latency:.1f} ms by itself (median of a stats"
        " call, one round trip), so small batches through the route are bound by it."
    )
    lines.append(
        "ours: one Lua script per enqueue, claim and finish call; processing adds run-once"
        " records (2 round trips per job)."
    )
    lines.append(
        f"targets: <= {TARGET_SINGLE:g} round trips per job one at a time,"
        f" <= {TARGET_BATCH_100:g} in batches of 100"
    )
    return lines, missed


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per lifecycle row")
    parser.add_argument("--http-jobs", type=int, default=500, help="jobs through the route")
    args = parser.parse_args(argv)
    if args.jobs < 100 or args.jobs % 100:
        parser.error("--jobs must be a positive multiple of 100")
    lines, missed = run(args.jobs, args.http_jobs)
    print("\n".join(lines))
    return report_targets(missed)


if __name__ == "__main__":
    sys.exit(main())
