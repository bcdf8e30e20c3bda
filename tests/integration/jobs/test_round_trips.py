"""Every queue operation is one round trip once the scripts are cached; the first use of a
script costs one more (EVALSHA answered NOSCRIPT, then EVAL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from upstash_redis import Redis

from bench.jobs import RoundTripCounter
from chalicelib.jobs.models import JobOutcome, JobSpec
from chalicelib.jobs.queue import JobQueue
from chalicelib.jobs.scripts import LuaScript, ScriptRunner


def test_enqueue_claim_and_finish_cost_one_round_trip_each(
    queue: JobQueue, round_trips: RoundTripCounter
) -> None:
    # Steady state: every script already cached by Redis.
    queue.enqueue(JobSpec(job_type="note"))
    queue.finish([JobOutcome.completed(job, None) for job in queue.claim(types=["note"])])

    with round_trips.measuring() as enqueue:
        queue.enqueue(JobSpec(job_type="note", payload={"n": 1}, dedupe_key="k"))
    with round_trips.measuring() as claim:
        (job,) = queue.claim(types=["note"], limit=10)
    with round_trips.measuring() as finish:
        queue.finish([JobOutcome.retry(job, "again")])

    assert (enqueue(), claim(), finish()) == (1, 1, 1)


def test_batches_cost_one_round_trip_per_call_whatever_their_size(
    queue: JobQueue, round_trips: RoundTripCounter
) -> None:
    queue.enqueue(JobSpec(job_type="note"))
    queue.finish([JobOutcome.completed(job, None) for job in queue.claim(types=["note"])])

    with round_trips.measuring() as lifecycle:
        queue.enqueue_many([JobSpec(job_type="note", payload={"n": n}) for n in range(100)])
        claimed = queue.claim(types=["note"], limit=100)
        states = queue.finish([JobOutcome.completed(job, {"n": 1}) for job in claimed])

    assert lifecycle() == 3
    assert states == ["completed"] * 100


def test_reading_the_queue_costs_one_round_trip_per_question(
    queue: JobQueue, round_trips: RoundTripCounter
) -> None:
    job_id = queue.enqueue(JobSpec(job_type="note")).job_id
    queue.stats()
    queue.dead_letters(5)

    with round_trips.measuring() as reads:
        queue.stats()
        queue.dead_letters(5)
        queue.status(job_id)

    assert reads() == 3


def test_the_statuses_of_several_jobs_cost_one_round_trip(
    queue: JobQueue, round_trips: RoundTripCounter
) -> None:
    ids = [answer.job_id for answer in queue.enqueue_many([JobSpec(job_type="note")] * 3)]
    unknown = uuid.uuid4().hex

    with round_trips.measuring() as reads:
        statuses = queue.statuses([*ids, unknown, "not-a-job-id"])

    assert reads() == 1
    assert [None if s is None else (s.job_id, s.state) for s in statuses] == [
        *((job_id, "ready") for job_id in ids),
        None,
        None,
    ]
    with round_trips.measuring() as none:
        assert queue.statuses(["not-a-job-id"]) == [None]
    assert none() == 0


def test_a_script_redis_has_not_cached_is_sent_once_then_run_by_hash(
    new_client: Callable[[], Redis], round_trips: RoundTripCounter
) -> None:
    runner = ScriptRunner(new_client())
    # A text no one has run before, so Redis cannot have it cached.
    script = LuaScript("fresh", f"-- {uuid.uuid4().hex}\nreturn ARGV[1] .. KEYS[1]")

    with round_trips.measuring() as first:
        assert runner.run(script, ["{t}k"], ["v:"]) == "v:{t}k"
    with round_trips.measuring() as second:
        assert runner.run(script, ["{t}k"], ["w:"]) == "w:{t}k"

    assert (first(), second()) == (2, 1)
