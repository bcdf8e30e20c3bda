"""The queue's values: what a job spec accepts and how outcomes and reports read."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.jobs.models import (
    BatchReport,
    ClaimedJob,
    FinishedJob,
    JobOutcome,
    JobSpec,
    QueueStats,
    TypeStats,
)


def claimed() -> ClaimedJob:
    return ClaimedJob(
        job_id="a" * 32,
        job_type="note",
        payload="{}",
        attempt=2,
        max_attempts=3,
        claim=5,
        deadline=10.0,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"job_type": "Bad Type"},
        {"job_type": "note", "max_attempts": 0},
        {"job_type": "note", "dedupe_key": ""},
        {"job_type": "note", "dedupe_window": 0},
        {"job_type": "note", "dedupe_window": 8 * 86_400},
        {"job_type": "note", "delay": -1},
        {"job_type": "note", "payload": {"when": object()}},
    ],
)
def test_a_spec_refuses_what_the_queue_cannot_honour(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JobSpec.model_validate(fields)


def test_a_spec_defaults_to_three_attempts_and_an_hour_of_dedupe() -> None:
    spec = JobSpec(job_type="note")

    assert (spec.max_attempts, spec.dedupe_window, spec.delay, spec.payload) == (3, 3600, None, {})


def test_an_outcome_carries_the_result_as_json_or_the_error_cut_short() -> None:
    job = claimed()

    assert JobOutcome.completed(job, {"a": [1, 2]}).text() == '{"a":[1,2]}'
    assert JobOutcome.completed(job, None).text() == "null"
    failed = JobOutcome.retry(job, "x" * 2000)
    assert (failed.kind, failed.attempt, failed.claim, len(failed.text())) == ("retry", 2, 5, 500)
    assert JobOutcome.dead(job, "no").text() == "no"


def test_a_claimed_job_gives_its_handler_the_attempt_it_is_on() -> None:
    context = claimed().context()

    assert (context.job_id, context.job_type, context.attempt, context.max_attempts) == (
        "a" * 32,
        "note",
        2,
        3,
    )


def test_stats_add_up_over_types() -> None:
    stats = QueueStats(
        types={
            "a": TypeStats(ready=1, delayed=2, in_flight=3, completed=4, dead=5),
            "b": TypeStats(ready=10, completed=1),
        }
    )

    assert stats.totals == TypeStats(ready=11, delayed=2, in_flight=3, completed=5, dead=5)
    assert stats.pending == 16
    assert stats.model_dump(by_alias=True)["types"]["a"]["inFlight"] == 3


def test_a_batch_report_counts_where_its_jobs_ended() -> None:
    def finished(state: Any) -> FinishedJob:
        return FinishedJob(job_id="a" * 32, job_type="note", attempt=1, state=state)

    states = ("completed", "completed", "delayed", "stale", "skipped")
    report = BatchReport(jobs=[finished(state) for state in states])

    assert report.summary() == {
        "claimed": 5,
        "completed": 2,
        "retried": 1,
        "dead": 0,
        "stale": 1,
        "skipped": 1,
    }
