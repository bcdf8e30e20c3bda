"""How one handler run becomes an outcome, over Powertools' run-once records kept in memory."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from pydantic import BaseModel

from chalicelib.jobs.models import ClaimedJob
from chalicelib.jobs.processor import VisibilityWindow, run_job
from chalicelib.jobs.registry import JobContext, JobRegistry, PermanentJobError
from tests.fakes.idempotency_cache import in_memory_persistence


class Order(BaseModel):
    order_id: str


@pytest.fixture
def persistence() -> BasePersistenceLayer:
    return in_memory_persistence()


def job(job_type: str = "order", payload: str = '{"order_id": "o-1"}') -> ClaimedJob:
    return ClaimedJob(
        job_id="c" * 32,
        job_type=job_type,
        payload=payload,
        attempt=1,
        max_attempts=3,
        claim=1,
        deadline=100.0,
    )


def registry_with(handler: Any) -> JobRegistry:
    handlers = JobRegistry()
    handlers.handler("order", Order)(handler)
    return handlers


def run(claimed: ClaimedJob, handlers: JobRegistry, persistence: BasePersistenceLayer) -> Any:
    return run_job(claimed, handlers, persistence=persistence, seconds_left=lambda: 60)


def test_a_handler_gets_its_typed_payload_and_context_and_its_result_is_kept(
    persistence: BasePersistenceLayer,
) -> None:
    seen: list[tuple[Order, JobContext]] = []

    def handler(payload: Order, context: JobContext) -> dict[str, str]:
        seen.append((payload, context))
        return {"captured": payload.order_id}

    outcome = run(job(), registry_with(handler), persistence)

    assert (outcome.kind, outcome.result) == ("completed", {"captured": "o-1"})
    assert seen == [(Order(order_id="o-1"), job().context())]


def test_a_job_already_done_replays_its_result_without_running_again(
    persistence: BasePersistenceLayer,
) -> None:
    runs: list[int] = []

    def handler(payload: Order, context: JobContext) -> dict[str, int]:
        runs.append(1)
        return {"run": len(runs)}

    handlers = registry_with(handler)
    first, second = run(job(), handlers, persistence), run(job(), handlers, persistence)

    assert first.result == second.result == {"run": 1}
    assert runs == [1]


def test_an_unknown_type_is_dead(persistence: BasePersistenceLayer) -> None:
    outcome = run(job("refund"), registry_with(lambda p, c: None), persistence)

    assert (outcome.kind, outcome.error) == ("dead", "unknown job type 'refund'")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ('{"orderId": 5}', "invalid payload: order_id: Field required"),
        ("not json", "invalid payload: payload: Invalid JSON"),
    ],
)
def test_a_payload_the_model_refuses_is_dead(
    persistence: BasePersistenceLayer, payload: str, reason: str
) -> None:
    outcome = run(job(payload=payload), registry_with(lambda p, c: None), persistence)

    assert outcome.kind == "dead"
    assert outcome.error is not None
    assert outcome.error.startswith(reason)


def test_a_permanent_error_is_dead_with_its_message(persistence: BasePersistenceLayer) -> None:
    def handler(payload: Order, context: JobContext) -> None:
        raise PermanentJobError("card declined")

    outcome = run(job(), registry_with(handler), persistence)

    assert (outcome.kind, outcome.error) == ("dead", "card declined")


def test_any_other_failure_is_retried_and_leaves_no_record(
    persistence: BasePersistenceLayer,
) -> None:
    calls: list[int] = []

    def handler(payload: Order, context: JobContext) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError("gateway slow")

    handlers = registry_with(handler)
    first = run(job(), handlers, persistence)
    second = run(job(), handlers, persistence)

    assert (first.kind, first.error) == ("retry", "TimeoutError: gateway slow")
    assert second.kind == "completed"
    assert len(calls) == 2


def test_the_run_once_window_is_the_time_left_until_the_visibility_deadline() -> None:
    left = [12.3456]
    window = VisibilityWindow(lambda: left[0])

    assert window.get_remaining_time_in_millis() == 12345
    left[0] = -5
    assert window.get_remaining_time_in_millis() == 0
