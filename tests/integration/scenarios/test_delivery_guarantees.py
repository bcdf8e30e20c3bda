"""What at-least-once delivery must never do: run twice, lose work, or obey a forged request."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.publisher import QStashPublisher
from chalicelib.queue.qstash_client import qstash_client
from chalicelib.scenarios.dynamodb_store import DynamoDBScenarioStore
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.scenarios.models import BusinessEvent
from chalicelib.scenarios.plan import STAGE_NAMES, month_of
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord
from chalicelib.scenarios.runner import RunEnvironment, run_generation
from chalicelib.scenarios.runtime import FAILURE_CALLBACK_PATH
from chalicelib.scenarios.store import ScenarioStore
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from tests.integration.scenarios.conftest import ScenarioApi
from tests.waiting import wait_until


def _queued(store: ScenarioStore, scenario_type: str = "bakery", seed: int = 9) -> ScenarioRecord:
    """A scenario recorded as queued, with no message sent for it."""
    now = datetime.now(UTC)
    record = ScenarioRecord(
        scenario_id=uuid.uuid4().hex,
        scenario_type=scenario_type,  # type: ignore[arg-type]
        seed=seed,
        created_at=now,
        updated_at=now,
    )
    store.create(record)
    return record


def _message(record: ScenarioRecord) -> dict[str, Any]:
    return {"scenarioId": record.scenario_id, "run": record.run}


def test_a_forged_signature_is_refused_and_changes_nothing(
    api: ScenarioApi, store: ScenarioStore
) -> None:
    record = _queued(store)
    response = api.deliver(_message(record), key="sig_notTheRealKey000000000000")
    assert response.status_code == 401
    unsigned = api.http.post(api.worker_url, json=_message(record))
    assert unsigned.status_code == 401
    after = store.get(record.scenario_id)
    assert after is not None
    assert (after.status, after.progress, after.updated_at) == ("queued", 0, record.updated_at)


def test_concurrent_duplicate_deliveries_run_the_generation_once(
    api: ScenarioApi, store: ScenarioStore
) -> None:
    record = _queued(store)
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: api.deliver(_message(record)), range(5)))
    bodies = [(r.status_code, r.json(), r.headers.get("Retry-After")) for r in responses]
    completed = [b for b in bodies if b[0] == 200 and b[1].get("status") == "completed"]
    assert len(completed) == 1, bodies
    for status, body, retry_after in bodies:
        if (status, body) == completed[0][:2]:
            continue
        # Either turned away while the lease was held, or told it was already done.
        assert (status == 503 and retry_after and int(retry_after) >= 1) or body.get("duplicate")
    final = store.get(record.scenario_id)
    assert final is not None
    assert final.status == "completed"
    assert final.events_count == len(list(store.iter_events(record.scenario_id)))


def test_a_late_redelivery_after_completion_changes_nothing(
    api: ScenarioApi, store: ScenarioStore
) -> None:
    record = _queued(store)
    assert api.deliver(_message(record)).json()["status"] == "completed"
    done = store.get(record.scenario_id)
    late = api.deliver(_message(record))
    assert late.status_code == 200
    assert late.json()["duplicate"] is True
    assert store.get(record.scenario_id) == done


class _Crash(BaseException):
    """The process dying mid-stage: nothing below `except Exception` sees it."""


class _CrashingStore(DynamoDBScenarioStore):
    """The real store, dying right after a chosen write: entering `stage`, or the events of
    storing's `month`-th write."""

    def __init__(self, inner: DynamoDBScenarioStore, point: tuple[str, str | int]) -> None:
        self.__dict__.update(inner.__dict__)
        self.point = point
        self.puts = 0

    def advance(self, scenario_id: str, **kwargs: Any) -> None:
        super().advance(scenario_id, **kwargs)
        if self.point == ("advance", kwargs["stage"]):
            raise _Crash

    def put_events(self, scenario_id: str, events: Sequence[BusinessEvent]) -> None:
        super().put_events(scenario_id, events)
        self.puts += 1
        if self.point == ("put_events", self.puts):
            raise _Crash


# Points every run passes: stage entries that are always written (later months may share one
# write), and each month's event write while storing.
CRASH_POINTS: list[tuple[str, str | int]] = [
    *(("advance", name) for name in STAGE_NAMES[1:] if (month_of(name) or 0) <= 1),
    *(("put_events", month) for month in range(1, 13)),
]


@pytest.mark.parametrize("point", CRASH_POINTS, ids=lambda point: f"{point[0]}-{point[1]}")
def test_a_crash_at_any_point_resumes_with_the_exact_event_count(
    store: ScenarioStore, point: tuple[str, str | int]
) -> None:
    assert isinstance(store, DynamoDBScenarioStore)
    record = _queued(store, "bakery", seed=4)
    message = GenerationMessage(scenario_id=record.scenario_id)
    crashing = RunEnvironment(
        store=_CrashingStore(store, point), continue_later=print, remaining_ms=lambda: 900_000
    )
    with pytest.raises(_Crash):
        run_generation(message, crashing)
    held = store.get(record.scenario_id)
    assert held is not None
    assert (held.status, held.lease_owner) == ("processing", crashing.owner), point

    # QStash's redelivery arrives after the dead invocation's lease expired.
    later = datetime.now(UTC) + timedelta(seconds=crashing.lease_seconds + 1)
    resumed = RunEnvironment(
        store=store, continue_later=print, remaining_ms=lambda: 900_000, now=lambda: later
    )
    outcome = run_generation(message, resumed)
    assert outcome.status_code == 200, (point, outcome)
    final = store.get(record.scenario_id)
    assert final is not None
    assert final.status == "completed", point
    ids = [event.event_id for event in store.iter_events(record.scenario_id)]
    assert final.events_count == len(ids) == len(set(ids)), point
    assert set(held.checkpoint.finished) <= set(final.checkpoint.finished), point


def test_exhausted_retries_mark_the_scenario_failed_and_retry_recovers_it(
    api: ScenarioApi, store: ScenarioStore
) -> None:
    record = _queued(store)
    settings = get_settings()
    # A worker nobody answers at: every attempt fails, then QStash calls the failure callback.
    QStashPublisher(qstash_client(settings)).publish(
        OutgoingMessage(
            url="http://127.0.0.1:9/",
            body=_message(record),
            deduplication_id=f"{record.scenario_id}-dead",
            failure_callback=settings.public_url(FAILURE_CALLBACK_PATH),
            retries=1,
        )
    )
    failed = wait_until(
        lambda: (s := api.status(record.scenario_id))["status"] == "failed" and s,
        timeout=30,
        what="the failure callback",
    )
    assert failed["error"].startswith("Generation failed after 2 attempts")

    retry = api.http.post(f"{api.app_url}/api/scenarios/{record.scenario_id}/retry")
    assert retry.status_code == 202, retry.text
    assert retry.json()["run"] == 2
    assert api.watch(record.scenario_id)[-1]["status"] == "completed"
    again = api.http.post(f"{api.app_url}/api/scenarios/{record.scenario_id}/retry")
    assert again.status_code == 409


def test_a_forged_failure_callback_changes_nothing(api: ScenarioApi, store: ScenarioStore) -> None:
    record = _queued(store)
    response = api.http.post(
        f"{api.app_url}{FAILURE_CALLBACK_PATH}",
        json={"status": 500, "sourceMessageId": "x", "sourceBody": "e30="},
        headers={"Upstash-Signature": "forged"},
    )
    assert response.status_code == 401
    current = store.get(record.scenario_id)
    assert current is not None
    assert current.status == "queued"


def test_a_short_time_budget_hands_over_to_continuations_until_done(
    api: ScenarioApi, store: ScenarioStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reserve as long as the whole budget: every invocation does one step, then continues.
    monkeypatch.setenv("WORKER_RESERVE_SECONDS", "900")
    get_settings.cache_clear()
    try:
        record = _queued(store)
        assert api.deliver(_message(record)).json()["status"] == "continued"
        final = wait_until(
            lambda: (r := store.get(record.scenario_id)) and r.status == "completed" and r,
            timeout=60,
            what="the continuations to finish the run",
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert final.checkpoint.continuations >= len(STAGE_NAMES) - 1
    ids = [event.event_id for event in store.iter_events(record.scenario_id)]
    assert final.events_count == len(ids) == len(set(ids))
    assert final.checkpoint != Checkpoint()


def test_a_failure_callback_waits_while_a_duplicate_is_still_running(
    api: ScenarioApi, store: ScenarioStore
) -> None:
    record = _queued(store)
    store.acquire_lease(
        record.scenario_id, run=1, owner="still-running", now=datetime.now(UTC), lease_seconds=60
    )
    body = json.dumps(
        {
            "status": 503,
            "body": base64.b64encode(b'{"error": "busy"}').decode(),
            "retried": 3,
            "sourceMessageId": "msg_1",
            "sourceBody": base64.b64encode(json.dumps(_message(record)).encode()).decode(),
        }
    ).encode()
    url = f"{api.app_url}{FAILURE_CALLBACK_PATH}"
    signature = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=body, now=time.time())
    response = api.http.post(
        url,
        content=body,
        headers={"Upstash-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    current = store.get(record.scenario_id)
    assert current is not None
    assert (current.status, current.lease_owner) == ("processing", "still-running")
