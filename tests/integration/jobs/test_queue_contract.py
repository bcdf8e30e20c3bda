"""The queue's Lua scripts on the real Redis: dedupe, order, backoff, visibility, dead letters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from upstash_redis import Redis

from chalicelib.jobs.models import JobOutcome, JobSpec
from chalicelib.jobs.queue import COMPLETED_RETENTION_SECONDS, JobNotFoundError, JobQueue
from tests.integration.jobs.conftest import ManualClock


def note(text: str = "hi", **options: object) -> JobSpec:
    return JobSpec.model_validate({"job_type": "note", "payload": {"text": text}, **options})


def test_the_same_dedupe_key_within_the_window_answers_the_first_job(queue: JobQueue) -> None:
    first = queue.enqueue(note("a", dedupe_key="escrow-1-release"))
    again = queue.enqueue(note("b", dedupe_key="escrow-1-release"))
    other_type = queue.enqueue(JobSpec(job_type="other", payload={}, dedupe_key="escrow-1-release"))

    assert first.created
    assert not again.created
    assert again.job_id == first.job_id
    assert other_type.created  # a dedupe key is scoped to its job type
    assert queue.stats().types["note"].ready == 1
    claimed = queue.claim(types=["note"], limit=10)
    assert [(job.job_id, job.payload) for job in claimed] == [(first.job_id, '{"text":"a"}')]


def test_after_the_dedupe_window_the_same_key_enqueues_a_new_job(
    queue: JobQueue, clock: ManualClock
) -> None:
    first = queue.enqueue(note(dedupe_key="k", dedupe_window=60))
    clock.advance(59.9)
    assert queue.enqueue(note(dedupe_key="k", dedupe_window=60)).job_id == first.job_id
    clock.advance(0.1)
    later = queue.enqueue(note(dedupe_key="k", dedupe_window=60))

    assert later.created
    assert later.job_id != first.job_id
    assert queue.stats().types["note"].ready == 2


def test_duplicates_inside_one_batch_enqueue_once(queue: JobQueue) -> None:
    answers = queue.enqueue_many([note("a", dedupe_key="k"), note("b"), note("c", dedupe_key="k")])

    assert [answer.created for answer in answers] == [True, True, False]
    assert answers[2].job_id == answers[0].job_id
    assert queue.stats().types["note"].ready == 2


def test_jobs_of_a_type_are_claimed_oldest_first(queue: JobQueue) -> None:
    ids = [answer.job_id for answer in queue.enqueue_many([note(str(n)) for n in range(7)])]
    ids.append(queue.enqueue(note("7")).job_id)

    claimed = [job.job_id for job in queue.claim(types=["note"], limit=3)]
    claimed += [job.job_id for job in queue.claim(types=["note"], limit=10)]

    assert claimed == ids


def test_a_claim_takes_only_the_types_asked_for_or_every_type(queue: JobQueue) -> None:
    queue.enqueue_many([note(), JobSpec(job_type="other"), JobSpec(job_type="third")])

    assert [job.job_type for job in queue.claim(types=["other"], limit=10)] == ["other"]
    assert sorted(job.job_type for job in queue.claim(limit=10)) == ["note", "third"]
    assert queue.claim(limit=10) == []


def test_a_delayed_job_is_claimed_only_once_it_is_due(queue: JobQueue, clock: ManualClock) -> None:
    delayed = queue.enqueue(note(delay=30)).job_id
    assert queue.status(delayed).state == "delayed"  # type: ignore[union-attr]

    clock.advance(29.999)
    assert queue.claim(types=["note"]) == []
    clock.advance(0.001)
    assert [job.job_id for job in queue.claim(types=["note"])] == [delayed]


def test_a_failed_job_backs_off_2_then_4_seconds(queue: JobQueue, clock: ManualClock) -> None:
    job_id = queue.enqueue(note(max_attempts=5)).job_id
    (first,) = queue.claim(types=["note"])
    assert queue.finish([JobOutcome.retry(first, "smtp timeout")]) == ["delayed"]

    clock.advance(1.999)
    assert queue.claim(types=["note"]) == []
    clock.advance(0.001)
    (second,) = queue.claim(types=["note"])
    assert (second.job_id, second.attempt) == (job_id, 2)

    queue.finish([JobOutcome.retry(second, "smtp timeout")])
    clock.advance(3.999)
    assert queue.claim(types=["note"]) == []
    clock.advance(0.001)
    (third,) = queue.claim(types=["note"])
    assert third.attempt == 3
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts, status.last_error) == ("in_flight", 3, "smtp timeout")


def test_jitter_only_lengthens_a_retry_delay(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    from chalicelib.jobs.backoff import RetryBackoff

    queue = make_queue(backoff=RetryBackoff(jitter=1.0))
    job_id = queue.enqueue(note()).job_id
    (job,) = queue.claim(types=["note"])
    queue.finish([JobOutcome.retry(job, "boom")])
    status = queue.status(job_id)
    assert status is not None
    assert status.run_at is not None
    waited = status.run_at.timestamp() - clock()
    assert 2.0 <= waited <= 4.0
    clock.advance(1.999)
    assert queue.claim(types=["note"]) == []


def test_the_last_attempt_failing_dead_letters_the_job_with_its_error(
    queue: JobQueue, clock: ManualClock
) -> None:
    job_id = queue.enqueue(note(max_attempts=2)).job_id
    (job,) = queue.claim(types=["note"])
    queue.finish([JobOutcome.retry(job, "first failure")])
    clock.advance(2)
    (job,) = queue.claim(types=["note"])
    assert queue.finish([JobOutcome.retry(job, "second failure")]) == ["dead"]

    clock.advance(3600)
    assert queue.claim(types=["note"]) == []
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts, status.last_error) == ("dead", 2, "second failure")
    (letter,) = queue.dead_letters(10)
    assert (letter.job_id, letter.last_error, letter.payload) == (
        job_id,
        "second failure",
        {"text": "hi"},
    )
    assert queue.stats().types["note"].dead == 1


def test_a_dead_outcome_dead_letters_at_once(queue: JobQueue) -> None:
    job_id = queue.enqueue(note(max_attempts=5)).job_id
    (job,) = queue.claim(types=["note"])

    assert queue.finish([JobOutcome.dead(job, "unknown job type 'note'")]) == ["dead"]
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts) == ("dead", 1)


def test_a_job_whose_worker_died_is_claimed_again_after_its_deadline(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note()).job_id
    assert len(queue.claim(types=["note"])) == 1  # ... and its worker dies without finishing

    clock.advance(29.999)
    assert queue.claim(types=["note"]) == []
    clock.advance(0.001)
    (again,) = queue.claim(types=["note"])

    assert (again.job_id, again.attempt) == (job_id, 2)
    assert again.deadline == pytest.approx(clock() + 30)
    status = queue.status(job_id)
    assert status is not None
    assert status.last_error == "worker lost the job"


def test_a_lost_job_out_of_attempts_is_dead_lettered_as_lost(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note(max_attempts=1)).job_id
    queue.claim(types=["note"])
    clock.advance(31)

    assert queue.claim(types=["note"]) == []
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.last_error) == ("dead", "worker lost the job")
    assert [letter.job_id for letter in queue.dead_letters(5)] == [job_id]


def test_an_outcome_for_an_attempt_no_longer_in_flight_is_ignored(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note()).job_id
    (slow,) = queue.claim(types=["note"])
    clock.advance(31)
    (retry,) = queue.claim(types=["note"])

    # The first worker wakes up and reports; the job belongs to the second attempt now.
    assert queue.finish([JobOutcome.dead(slow, "late and wrong")]) == ["stale"]
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts) == ("in_flight", 2)

    assert queue.finish([JobOutcome.completed(retry, {"ok": True})]) == ["completed"]
    assert queue.finish([JobOutcome.completed(retry, {"ok": False})]) == ["stale"]
    status = queue.status(job_id)
    assert status is not None
    assert status.result == {"ok": True}


def test_one_finish_call_records_a_whole_batch_of_outcomes(
    queue: JobQueue, redis_for_ttl: Redis
) -> None:
    ids = [answer.job_id for answer in queue.enqueue_many([note(str(n)) for n in range(3)])]
    done, retried, dead = queue.claim(types=["note"], limit=3)

    states = queue.finish(
        [
            JobOutcome.completed(done, {"sent": 1}),
            JobOutcome.retry(retried, "try later"),
            JobOutcome.dead(dead, "never"),
        ]
    )

    assert states == ["completed", "delayed", "dead"]
    assert [queue.status(job_id).state for job_id in ids] == states  # type: ignore[union-attr]
    counts = queue.stats().types["note"]
    assert (counts.ready, counts.delayed, counts.in_flight, counts.completed, counts.dead) == (
        0,
        1,
        0,
        1,
        1,
    )
    # A completed job is kept for a week; a dead one until it is retried or removed.
    completed_ttl = redis_for_ttl.ttl(f"{queue.namespace}:job:{ids[0]}")
    assert COMPLETED_RETENTION_SECONDS - 60 < completed_ttl <= COMPLETED_RETENTION_SECONDS
    assert redis_for_ttl.ttl(f"{queue.namespace}:job:{ids[2]}") == -1


def test_status_tells_the_whole_story_of_a_job(queue: JobQueue, clock: ManualClock) -> None:
    job_id = queue.enqueue(note(max_attempts=4)).job_id
    created = clock()
    clock.advance(5)
    (job,) = queue.claim(types=["note"])
    clock.advance(1)
    queue.finish([JobOutcome.completed(job, {"messageId": "m-1"})])

    status = queue.status(job_id)

    assert status is not None
    assert status.job_type == "note"
    assert (status.state, status.attempts, status.max_attempts) == ("completed", 1, 4)
    assert status.created_at.timestamp() == created
    assert status.updated_at.timestamp() == created + 6
    assert status.run_at is not None
    assert status.run_at.timestamp() == created
    assert status.result == {"messageId": "m-1"}
    assert status.last_error is None


def test_unknown_and_malformed_ids_have_no_status(queue: JobQueue) -> None:
    assert queue.status("0" * 32) is None
    assert queue.status("not-a-job-id") is None


def test_stats_count_every_state_per_type(queue: JobQueue) -> None:
    queue.enqueue_many([note(), note(), note(delay=60), JobSpec(job_type="other")])
    queue.claim(types=["other"])

    stats = queue.stats()

    assert set(stats.types) == {"note", "other"}
    assert stats.types["note"].model_dump() == {
        "ready": 2,
        "delayed": 1,
        "in_flight": 0,
        "completed": 0,
        "dead": 0,
    }
    assert stats.types["other"].in_flight == 1
    assert stats.pending == 4


def test_dead_letters_list_the_latest_first_and_respect_the_limit(
    queue: JobQueue, clock: ManualClock
) -> None:
    ids = [answer.job_id for answer in queue.enqueue_many([note(str(n)) for n in range(3)])]
    for job in queue.claim(types=["note"], limit=3):
        clock.advance(1)
        queue.finish([JobOutcome.dead(job, f"failed {job.job_id}")])

    letters = queue.dead_letters(2)

    assert [letter.job_id for letter in letters] == [ids[2], ids[1]]
    assert letters[0].last_error == f"failed {ids[2]}"


def test_a_dead_job_can_be_retried_once_with_its_attempts_reset(
    queue: JobQueue, clock: ManualClock
) -> None:
    job_id = queue.enqueue(note(max_attempts=1)).job_id
    (job,) = queue.claim(types=["note"])
    queue.finish([JobOutcome.retry(job, "down")])

    assert queue.retry_dead(job_id) is True
    assert queue.retry_dead(job_id) is False  # ready now, not dead

    assert queue.dead_letters(10) == []
    assert queue.stats().types["note"].dead == 0
    (again,) = queue.claim(types=["note"])
    assert (again.job_id, again.attempt, again.claim) == (job_id, 1, 2)
    with pytest.raises(JobNotFoundError):
        queue.retry_dead("f" * 32)


def test_a_namespace_without_a_hash_tag_is_refused(new_client: Callable[[], Redis]) -> None:
    with pytest.raises(ValueError, match="hash tag"):
        JobQueue(new_client(), namespace="longhaul:jobs:q")


def test_an_outcome_for_a_reclaimed_job_or_of_another_type_is_ignored(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note()).job_id
    (slow,) = queue.claim(types=["note"])
    clock.advance(31)
    queue.claim(types=["other"])  # reclaims nothing of "note": only the types asked for
    assert queue.finish([JobOutcome.completed(slow, None)]) == ["completed"]

    second_id = queue.enqueue(note()).job_id
    assert len(queue.claim(types=["note"])) == 1
    clock.advance(31)
    (current,) = queue.claim(types=["note"], limit=1)  # reclaimed and claimed again
    assert (current.attempt, current.claim) == (2, 2)
    forged = current.model_copy(update={"job_type": "other"})

    assert queue.finish([JobOutcome.completed(forged, None)]) == ["stale"]
    assert [queue.status(i).state for i in (job_id, second_id)] == [  # type: ignore[union-attr]
        "completed",
        "in_flight",
    ]


def test_an_outcome_from_before_a_dead_job_was_retried_is_ignored(
    make_queue: Callable[..., JobQueue], clock: ManualClock
) -> None:
    queue = make_queue(visibility_timeout_seconds=30)
    job_id = queue.enqueue(note(max_attempts=1)).job_id
    (lost,) = queue.claim(types=["note"])  # worker A, which stalls past the deadline
    clock.advance(31)
    assert queue.claim(types=["note"]) == []  # A's claim is reclaimed and, out of attempts, dead
    assert queue.retry_dead(job_id) is True
    (again,) = queue.claim(types=["note"])  # worker B, on the first attempt of the new run
    assert (again.attempt, lost.attempt) == (1, 1)

    # A wakes up and reports: its claim ended before the retry, whatever its attempt number.
    assert queue.finish([JobOutcome.dead(lost, "late and wrong")]) == ["stale"]
    assert queue.finish([JobOutcome.completed(again, {"ok": True})]) == ["completed"]
    status = queue.status(job_id)
    assert status is not None
    assert (status.state, status.attempts, status.result) == ("completed", 1, {"ok": True})
    assert queue.dead_letters(5) == []
