"""The local stack's drainer: it drains through the same runtime the schedule uses, survives a
failure, and stops cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from chalicelib.jobs.models import JobSpec
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobRegistry
from chalicelib.jobs.runtime import JobRuntime
from chalicelib.settings import get_settings
from devstack.job_drain import JobDrainer
from devstack.redis_rest import DEFAULT_TOKEN
from tests.integration.jobs.conftest import Recorder
from tests.waiting import wait_until


@pytest.fixture
def redis_settings(jobs_redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app's settings name a Redis (the drainer does nothing without one)."""
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", jobs_redis_url)
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", DEFAULT_TOKEN)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_drainer_runs_ready_jobs_survives_a_failure_and_stops_cleanly(
    queue: JobQueue,
    registry: JobRegistry,
    recorder: Recorder,
    persistence: BasePersistenceLayer,
    redis_settings: None,
) -> None:
    jobs = JobRuntime(queue, registry, persistence)
    loads: list[int] = []

    def load_handlers() -> JobRegistry:
        loads.append(1)
        if len(loads) == 1:
            raise ImportError("a handler module failed to import")
        return registry

    drainer = JobDrainer(0.01, runtime=lambda settings, handlers: jobs, load_handlers=load_handlers)
    job_id = queue.enqueue(JobSpec(job_type="note", payload={"text": "local"})).job_id

    drainer.start()
    try:
        wait_until(lambda: recorder.runs, timeout=10, what="the drainer to run the job")
    finally:
        drainer.stop()

    assert not drainer.running
    assert recorder.runs == [(job_id, 1)]
    assert len(loads) >= 2  # the first failure did not end the thread
    status = queue.status(job_id)
    assert status is not None
    assert status.state == "completed"
