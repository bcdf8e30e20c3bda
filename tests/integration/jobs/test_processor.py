"""`process_batch` over the real queue and run-once records: what each kind of handler ending
does to a job, and that a job's effect happens once even when its worker is lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from chalicelib.jobs.models import JobSpec
from chalicelib.jobs.processor import drain, process_batch, run_job
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.registry import JobContext, JobRegistry, PermanentJobError
from chalicelib.queue.idempotency import run_once
from tests.integration.jobs.conftest import ManualClock, Note, Recorder


class WorkerKilled(BaseException):
    """The process dying mid-job: nothing after this line of the worker runs."""


def note(text: str = "hi", **options: Any) -> JobSpec:
    return JobSpec.model_validate({"job_type": "note", "payload": {"text": text}, **options})


def test_a_batch_runs_each_handler_and_records_the_results(
    queue: JobQueue,
    registry: JobRegistry,
    recorder: Recorder,
    persistence: BasePersistenceLayer,
) -> None:
    ids = [answer.job_id for answer in queue.enqueue_many([note("a"), note("b")])]

    report = process_batch(queue, registry, limit=10, persistence=persistence)

    assert report.summary() == {
        "claimed": 2,
        "completed": 2,
        "retried": 0,
        "dead": 0,
        "stale": 0,
        "skipped": 0,
    }
    assert recorder.runs == [(ids[0], 1), (ids[1], 1)]
    assert [queue.status(job_id).result for job_id in ids] == [  # type: ignore[union-attr]
        {"text": "a"},
        {"text": "b"},
    ]
    assert process_batch(queue, registry, persistence=persistence).jobs == []


def test_a_job_of_a_type_without_a_handler_is_dead_at_once(
    queue: JobQueue, registry: JobRegistry, persistence: BasePersistenceLayer
) -> None:
    job_id = queue.enqueue(JobSpec(job_type="mystery", payload={}, max_attempts=5)).job_id

    report = process_batch(queue, registry, persistence=persistence)

    assert [(job.state, job.error) for job in report.jobs] == [
        ("dead", "unknown job type 'mystery'")
    ]
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts) == ("dead", 1)


def test_a_payload_its_handler_cannot_read_is_dead_at_once(
    queue: JobQueue, registry: JobRegistry, recorder: Recorder, persistence: BasePersistenceLayer
) -> None:
    job_id = queue.enqueue(JobSpec(job_type="note", payload={"txt": "typo"})).job_id

    process_batch(queue, registry, persistence=persistence)

    status = queue.status(job_id)
    assert status is not None
    assert status.state == "dead"
    assert status.last_error == "invalid payload: text: Field required"
    assert recorder.runs == []


def test_a_permanent_error_is_dead_at_once_and_others_are_retried_with_their_message(
    queue: JobQueue, clock: ManualClock, persistence: BasePersistenceLayer
) -> None:
    registry = JobRegistry()

    @registry.handler("refused", Note)
    def refused(payload: Note, job: JobContext) -> None:
        raise PermanentJobError("card declined")

    @registry.handler("flaky", Note)
    def flaky(payload: Note, job: JobContext) -> dict[str, Any]:
        if job.attempt < 3:
            raise ConnectionError(f"partner down (attempt {job.attempt})")
        return {"attempt": job.attempt}

    refused_id, flaky_id = (
        answer.job_id
        for answer in queue.enqueue_many(
            [
                JobSpec(job_type="refused", payload={"text": "x"}, max_attempts=5),
                JobSpec(job_type="flaky", payload={"text": "x"}, max_attempts=5),
            ]
        )
    )

    first = process_batch(queue, registry, persistence=persistence)
    assert sorted((job.job_type, job.state) for job in first.jobs) == [
        ("flaky", "delayed"),
        ("refused", "dead"),
    ]
    refused_status = queue.status(refused_id)
    assert refused_status is not None
    assert refused_status.last_error == "card declined"

    clock.advance(2)
    process_batch(queue, registry, persistence=persistence)
    flaky_status = queue.status(flaky_id)
    assert flaky_status is not None
    assert flaky_status.last_error == "ConnectionError: partner down (attempt 2)"
    clock.advance(4)
    process_batch(queue, registry, persistence=persistence)
    flaky_status = queue.status(flaky_id)
    assert flaky_status is not None
    assert (flaky_status.state, flaky_status.result) == ("completed", {"attempt": 3})


def test_a_job_that_always_fails_ends_dead_with_its_last_error(
    queue: JobQueue, clock: ManualClock, persistence: BasePersistenceLayer
) -> None:
    registry = JobRegistry()

    @registry.handler("broken", Note)
    def broken(payload: Note, job: JobContext) -> None:
        raise RuntimeError(f"failure {job.attempt}")

    job_id = queue.enqueue(JobSpec(job_type="broken", payload={"text": "x"})).job_id
    report = drain(queue, registry, persistence=persistence)
    for wait in (2, 4):
        clock.advance(wait)
        report = drain(queue, registry, persistence=persistence)

    assert report.dead == 1
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts, status.last_error) == (
        "dead",
        3,
        "RuntimeError: failure 3",
    )


def test_a_job_whose_effect_ran_but_whose_finish_was_lost_is_not_run_again(
    make_queue: Callable[..., JobQueue],
    clock: ManualClock,
    registry: JobRegistry,
    recorder: Recorder,
    persistence: BasePersistenceLayer,
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note("once")).job_id
    (job,) = queue.claim(types=["note"])
    outcome = run_job(job, registry, persistence=persistence, seconds_left=lambda: 30)
    assert outcome.kind == "completed"
    # ... and the worker dies before its finish call reaches Redis.

    clock.advance(31)
    report = process_batch(queue, registry, persistence=persistence)

    assert [(finished.job_id, finished.attempt) for finished in report.jobs] == [(job_id, 2)]
    assert recorder.runs == [(job_id, 1)]  # the stored result was replayed, not recomputed
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.result) == ("completed", {"text": "once"})


def test_a_worker_killed_mid_job_stops_blocking_the_retry_at_the_visibility_deadline(
    make_queue: Callable[..., JobQueue],
    clock: ManualClock,
    persistence: BasePersistenceLayer,
) -> None:
    # The deadline is short in real time too: the run-once record's expiry is a wall-clock
    # time (Powertools reads the real clock), set from the time left until the deadline.
    queue = make_queue(visibility_timeout_seconds=0.2)
    registry = JobRegistry()
    runs: list[int] = []

    @registry.handler("note", Note)
    def dies_the_first_time(payload: Note, job: JobContext) -> dict[str, int]:
        runs.append(job.attempt)
        if job.attempt == 1:
            raise WorkerKilled
        return {"attempt": job.attempt}

    job_id = queue.enqueue(note(max_attempts=3)).job_id
    with pytest.raises(WorkerKilled):
        process_batch(queue, registry, persistence=persistence)

    clock.advance(1)
    time.sleep(0.25)  # past the run-once record's in-progress expiry
    report = process_batch(queue, registry, persistence=persistence)

    assert [(job.attempt, job.state) for job in report.jobs] == [(2, "completed")]
    assert runs == [1, 2]
    status = queue.status(job_id)
    assert status is not None
    assert status.result == {"attempt": 2}


def test_a_job_still_running_elsewhere_is_retried_as_still_running(
    queue: JobQueue, clock: ManualClock, registry: JobRegistry, persistence: BasePersistenceLayer
) -> None:
    job_id = queue.enqueue(note()).job_id
    (job,) = queue.claim(types=["note"])
    outcome_inside: list[str] = []

    def effect() -> dict[str, Any]:
        # While this attempt's effect runs, another worker holding the same job starts it.
        duplicate = run_job(job, registry, persistence=persistence, seconds_left=lambda: 60)
        outcome_inside.append(f"{duplicate.kind}: {duplicate.error}")
        return {}

    run_once(f"job:{job_id}", effect, persistence=persistence)

    assert outcome_inside == ["retry: still running"]


def test_a_handler_returning_something_other_than_a_dict_is_dead(
    queue: JobQueue, persistence: BasePersistenceLayer
) -> None:
    registry = JobRegistry()

    @registry.handler("note", Note)
    def wrong(payload: Note, job: JobContext) -> Any:
        return ["not", "a", "dict"]

    queue.enqueue(note())
    report = process_batch(queue, registry, persistence=persistence)

    assert [(job.state, job.error) for job in report.jobs] == [
        ("dead", "handler returned list, not a dict")
    ]


def test_drain_stops_when_told_to(
    queue: JobQueue, registry: JobRegistry, persistence: BasePersistenceLayer
) -> None:
    queue.enqueue_many([note(str(n)) for n in range(25)])
    batches = iter([True, True, False])

    report = drain(
        queue, registry, persistence=persistence, limit=10, keep_going=lambda: next(batches)
    )

    assert (report.batches, report.claimed, report.completed) == (2, 20, 20)
    assert queue.stats().types["note"].ready == 5


def test_a_job_whose_deadline_is_too_close_when_its_turn_comes_is_released_unrun(
    make_queue: Callable[..., JobQueue],
    clock: ManualClock,
    persistence: BasePersistenceLayer,
) -> None:
    # A 30 s visibility timeout leaves a 3 s margin; each run takes 14 s of the batch's time.
    queue = make_queue(visibility_timeout_seconds=30)
    registry = JobRegistry()
    runs: list[tuple[str, int]] = []

    @registry.handler("note", Note)
    def slow(payload: Note, job: JobContext) -> dict[str, str]:
        runs.append((job.job_id, job.attempt))
        clock.advance(14)
        return {"text": payload.text}

    ids = [answer.job_id for answer in queue.enqueue_many([note("a"), note("b"), note("c")])]

    report = process_batch(queue, registry, persistence=persistence)

    # The third job's turn comes with 2 s left: another worker may reclaim it before it ends.
    assert runs == [(ids[0], 1), (ids[1], 1)]
    assert [(job.job_id, job.state) for job in report.jobs] == [
        (ids[0], "completed"),
        (ids[1], "completed"),
        (ids[2], "skipped"),
    ]
    assert report.summary() == {
        "claimed": 3,
        "completed": 2,
        "retried": 0,
        "dead": 0,
        "stale": 0,
        "skipped": 1,
    }
    status = queue.status(ids[2])
    assert status is not None
    # Released, not failed: its attempt is given back and it is due again at once.
    assert (status.state, status.attempts, status.last_error) == ("delayed", 0, None)

    again = process_batch(queue, registry, persistence=persistence)

    assert [(job.job_id, job.attempt, job.state) for job in again.jobs] == [
        (ids[2], 1, "completed")
    ]
    assert runs[2:] == [(ids[2], 1)]


def test_a_job_whose_deadline_passed_during_the_batch_is_not_run(
    make_queue: Callable[..., JobQueue],
    clock: ManualClock,
    persistence: BasePersistenceLayer,
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    registry = JobRegistry()
    runs: list[str] = []

    @registry.handler("note", Note)
    def very_slow(payload: Note, job: JobContext) -> None:
        runs.append(job.job_id)
        clock.advance(40)

    first, second = (answer.job_id for answer in queue.enqueue_many([note("a"), note("b")]))

    batches = iter([True, False])

    report = drain(queue, registry, persistence=persistence, keep_going=lambda: next(batches))

    # The first job ran past its deadline but nobody reclaimed it meanwhile, so it still counts.
    assert runs == [first]
    assert (report.claimed, report.completed, report.skipped, report.stale) == (2, 1, 1, 0)
    status = queue.status(second)
    assert status is not None
    assert (status.state, status.attempts) == ("delayed", 0)
