"""The job queue against the real Redis, through the local Upstash REST endpoint and the SDK.

Each test gets a queue namespace of its own (deleted afterwards) and a clock it moves by hand,
so tests never see each other's jobs and never wait for time to pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from random import Random
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from pydantic import BaseModel
from upstash_redis import Redis

from bench.jobs import RoundTripCounter
from chalicelib.jobs.backoff import RetryBackoff
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobContext, JobRegistry
from chalicelib.queue.idempotency import persistence_layer
from devstack.redis_rest import DEFAULT_TOKEN
from devstack.stack import LocalStack, StackOptions

START = 1_750_000_000.0
# Jitter off: a retry is due exactly 2 s, 4 s, 8 s ... after its failure.
NO_JITTER = RetryBackoff(jitter=0)


class ManualClock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class Note(BaseModel):
    """The payload of the tests' jobs."""

    text: str


class Recorder:
    """A handler that records every run (job id, attempt) and returns what it saw."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int]] = []

    def __call__(self, payload: Note, job: JobContext) -> dict[str, Any]:
        self.runs.append((job.job_id, job.attempt))
        return {"text": payload.text}


@pytest.fixture(scope="session")
def jobs_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Only the Upstash REST endpoint (backed by the real Redis when one answers)."""
    options = StackOptions.on_free_ports(tmp_path_factory.mktemp("unused-mail"))
    stack = LocalStack(options).start(only=["redis-rest"])
    yield stack.services[0].url
    stack.stop()


@pytest.fixture
def round_trips() -> RoundTripCounter:
    """Counts the requests of every client `new_client` makes."""
    return RoundTripCounter()


@pytest.fixture
def new_client(jobs_redis_url: str, round_trips: RoundTripCounter) -> Iterator[Callable[[], Redis]]:
    """Makes SDK clients of the endpoint (each its own HTTP connection pool), counted."""
    clients: list[Redis] = []

    def make() -> Redis:
        client = Redis(jobs_redis_url, DEFAULT_TOKEN, rest_retries=0, allow_telemetry=False)
        clients.append(round_trips.attach(client))
        return client

    yield make
    for client in clients:
        client.close()  # type: ignore[no-untyped-call]  # untyped in the SDK


@pytest.fixture
def namespace(new_client: Callable[[], Redis]) -> Iterator[str]:
    """A queue namespace only this test uses; every key under it is deleted afterwards."""
    name = f"longhaul-test:jobs:{{{uuid.uuid4().hex}}}"
    yield name
    redis = new_client()
    cursor = 0
    while True:
        cursor, keys = redis.scan(cursor, match=f"{name}*", count=1000)
        if keys:
            redis.delete(*keys)
        if cursor == 0:
            break


@pytest.fixture
def clock() -> ManualClock:
    """The time every queue of the test reads."""
    return ManualClock()


@pytest.fixture
def make_queue(
    new_client: Callable[[], Redis], namespace: str, clock: ManualClock
) -> Callable[..., JobQueue]:
    """Queues on the test's namespace and clock, each with a client of its own."""

    def make(**options: Any) -> JobQueue:
        settings: dict[str, Any] = {
            "clock": clock,
            "rng": Random(7),
            "namespace": namespace,
            "backoff": NO_JITTER,
            **options,
        }
        return JobQueue(new_client(), **settings)

    return make


@pytest.fixture
def queue(make_queue: Callable[..., JobQueue]) -> JobQueue:
    """The test's queue."""
    return make_queue()


@pytest.fixture
def persistence(new_client: Callable[[], Redis]) -> BasePersistenceLayer:
    """Run-once records in the same Redis (keyed by job id, so tests cannot collide)."""
    return persistence_layer(new_client())


@pytest.fixture
def recorder() -> Recorder:
    """The handler of the "note" job type."""
    return Recorder()


@pytest.fixture
def registry(recorder: Recorder) -> JobRegistry:
    """A registry of the tests' own: "note" runs `recorder`."""
    handlers = JobRegistry()
    handlers.handler("note", Note)(recorder)
    return handlers


@pytest.fixture
def redis_for_ttl(new_client: Callable[[], Redis]) -> Redis:
    """A plain client, to look at what the queue's scripts leave in Redis."""
    return new_client()
