"""run_generation under a lease, from checkpoints, in slices; and the service around it.

Everything runs against `InMemoryScenarioStore` with injected clocks: `now` for leases, a
monotonic clock for progress ticks, and a chosen remaining Lambda time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from chalicelib.queue.dispatch import DispatchResult
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.scenarios import (
    BusinessEvent,
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios import service as service_module
from chalicelib.scenarios.messages import SCENARIO_ID_PATTERN, GenerationMessage
from chalicelib.scenarios.plan import RUN_STAGES, STAGE_NAMES, month_of
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord, ScenarioStatus
from chalicelib.scenarios.runner import RunEnvironment, run_generation
from chalicelib.scenarios.service import (
    MAX_SEED,
    GenerateRequest,
    NotQueuedError,
    entity_tag,
    retry_generation,
    start_generation,
    status_view,
)
from chalicelib.scenarios.store import NotRetryableError
from tests.fakes.scenario_store import CrashHook, InMemoryScenarioStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SCENARIO_ID = "5ce0a10000000000000000000000a001"
SEED = 7
LEASE_SECONDS = 120
RESERVE_MS = 60_000
PLENTY_MS = 900_000
# Validation's result is the run's final write, so it is never among the checkpointed stages.
CHECKPOINTED = STAGE_NAMES[:-1]
# With a clock that stands still, the months after the first share one progress write.
FROZEN_CLOCK_STAGES = tuple(name for name in STAGE_NAMES if (month_of(name) or 0) <= 1)
FIRST_MESSAGE = GenerationMessage(scenario_id=SCENARIO_ID)


class ProcessDiedError(BaseException):
    """The Lambda process dies mid-call: nothing of the run's own clean-up can run."""


@cache
def expected_events() -> tuple[BusinessEvent, ...]:
    """Every event of the test scenario, straight from the generator."""
    profile = generate_profile("bakery", SEED)
    trends = generate_trends(profile, SEED)
    return tuple(
        event
        for month in range(1, 13)
        for event in generate_month_events(profile, trends, month, SEED)
    )


def queued_record(**changes: Any) -> ScenarioRecord:
    """The test scenario as `start_generation` creates it, with `changes` applied."""
    record = ScenarioRecord(
        scenario_id=SCENARIO_ID, scenario_type="bakery", seed=SEED, created_at=T0, updated_at=T0
    )
    return record.model_copy(update=changes)


class SteppingClock:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.value = 0.0

    def __call__(self) -> float:
        self.value += self.step
        return self.value


@dataclass
class Harness:
    """A store holding the queued test scenario, a settable wall clock, sent continuations."""

    store: InMemoryScenarioStore
    now: datetime = T0
    continuations: list[GenerationMessage] = field(default_factory=list)
    continue_error: Exception | None = None

    def continue_later(self, message: GenerationMessage) -> None:
        if self.continue_error is not None:
            raise self.continue_error
        self.continuations.append(message)

    def run(
        self,
        message: GenerationMessage = FIRST_MESSAGE,
        *,
        owner: str = "owner-1",
        remaining_ms: int = PLENTY_MS,
        tick_seconds: float = 0.0,
    ) -> DeliveryOutcome:
        """One invocation as `owner`, with a constant remaining time and a stepping clock."""
        env = RunEnvironment(
            store=self.store,
            continue_later=self.continue_later,
            remaining_ms=lambda: remaining_ms,
            now=lambda: self.now,
            monotonic=SteppingClock(tick_seconds),
            owner=owner,
            lease_seconds=LEASE_SECONDS,
            reserve_ms=RESERVE_MS,
        )
        return run_generation(message, env)

    def record(self) -> ScenarioRecord:
        record = self.store.peek(SCENARIO_ID)
        assert record is not None
        return record

    def advanced_stages(self) -> list[str]:
        """Stages `advance` was called for since calls were last forgotten, once each, in order."""
        stages = [call["stage"] for call in self.store.calls_of("advance")]
        return list(dict.fromkeys(stages))


@pytest.fixture
def harness() -> Harness:
    store = InMemoryScenarioStore()
    store.create(queued_record())
    store.forget_calls()
    return Harness(store)


def assert_completed_exactly(harness: Harness) -> None:
    """The scenario is completed with exactly the generator's events, each stored once."""
    record = harness.record()
    expected = expected_events()
    assert record.status == "completed"
    assert record.progress == 100
    assert record.current_stage == "completed"
    assert record.lease_owner is None
    assert record.lease_until is None
    assert record.events_count == len(expected)
    assert record.validation is not None
    assert record.validation.ok, [check.message for check in record.validation.failures]
    assert record.checkpoint.finished == CHECKPOINTED
    assert harness.store.stored_events(SCENARIO_ID) == sorted(expected, key=lambda e: e.event_id)


def crash_at(
    method: str, *, stage: str | None = None, occurrence: int = 1, error: BaseException
) -> CrashHook:
    """A hook raising `error` at the `occurrence`-th call of `method` (for `stage`)."""
    seen = 0

    def hook(name: str, arguments: dict[str, Any]) -> BaseException | None:
        nonlocal seen
        if name != method or (stage is not None and arguments.get("stage") != stage):
            return None
        seen += 1
        return error if seen == occurrence else None

    return hook


# A whole run.


def test_a_bakery_run_completes_with_every_event(harness: Harness) -> None:
    outcome = harness.run()

    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "status": "completed", "events": len(expected_events())}
    assert_completed_exactly(harness)
    assert harness.record().completed_at == T0
    assert harness.store.calls == Counter(
        acquire_lease=1,
        advance=len(FROZEN_CLOCK_STAGES),
        put_events=12,
        iter_events=1,
        complete=1,
    )
    assert harness.continuations == []


@pytest.mark.parametrize(
    ("tick_seconds", "ticks", "written"),
    [(0.0, range(0, 1), FROZEN_CLOCK_STAGES), (10.0, range(1, 13), STAGE_NAMES)],
    ids=["clock stands still", "clock jumps 10 s per read"],
)
def test_progress_never_goes_back_and_shows_every_stage_it_writes(
    harness: Harness, tick_seconds: float, ticks: range, written: tuple[str, ...]
) -> None:
    harness.run(tick_seconds=tick_seconds)

    writes = harness.store.calls_of("advance")
    progress = [call["progress"] for call in writes]
    assert progress == sorted(progress)
    assert set(progress) >= {stage.start for stage in RUN_STAGES if stage.name in written}
    assert harness.advanced_stages() == list(written)
    # At most one write per stage, plus throttled ticks inside `storing` only.
    per_stage = Counter(call["stage"] for call in writes)
    assert all(per_stage[name] == 1 for name in written if name != "storing")
    assert per_stage["storing"] - 1 in ticks
    assert len(writes) - len(written) in ticks
    assert all(85 <= call["progress"] <= 90 for call in writes if call["stage"] == "storing")


# Deliveries that must not run.


@pytest.mark.parametrize(("lease_left", "retry_after"), [(30, "31"), (0, "1")])
def test_a_delivery_while_another_owner_holds_the_lease_is_503_and_writes_nothing(
    harness: Harness, lease_left: int, retry_after: str
) -> None:
    leased = queued_record(
        status="processing",
        progress=50,
        lease_owner="someone-else",
        lease_until=T0.timestamp() + lease_left,
    )
    harness.store.put_record(leased)

    outcome = harness.run()

    assert outcome.status_code == 503
    assert int(outcome.headers["Retry-After"]) >= 1
    assert outcome.headers["Retry-After"] == retry_after
    assert harness.store.calls == Counter(acquire_lease=1)
    assert harness.record() == leased


def test_a_redelivery_after_completion_is_a_200_duplicate_without_writes(
    harness: Harness,
) -> None:
    harness.run()
    completed = harness.record()
    harness.store.forget_calls()

    outcome = harness.run(owner="owner-2")

    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "duplicate": True, "status": "completed"}
    assert harness.store.calls == Counter(acquire_lease=1)
    assert harness.record() == completed


def test_a_redelivery_after_failure_is_a_200_duplicate(harness: Harness) -> None:
    harness.store.put_record(queued_record(status="failed", error="gave up"))
    outcome = harness.run()
    assert (outcome.status_code, outcome.body["status"]) == (200, "failed")
    assert outcome.body["duplicate"] is True
    assert harness.store.calls == Counter(acquire_lease=1)


def test_a_message_for_an_earlier_run_is_a_200_stale_without_writes(harness: Harness) -> None:
    harness.store.put_record(queued_record(run=2))

    outcome = harness.run(GenerationMessage(scenario_id=SCENARIO_ID, run=1))

    assert outcome.status_code == 200
    assert outcome.body["stale"] is True
    assert harness.store.calls == Counter(acquire_lease=1)
    assert harness.record().status == "queued"


def test_an_unknown_scenario_is_rejected_for_good(harness: Harness) -> None:
    outcome = harness.run(GenerationMessage(scenario_id="0" * 32))

    assert outcome.status_code == 489
    assert outcome.headers == {"Upstash-NonRetryable-Error": "true"}
    assert "0" * 32 in outcome.body["error"]
    assert harness.store.calls == Counter(acquire_lease=1)


# Crashes and errors.


@dataclass(frozen=True)
class CrashPoint:
    """Where the process dies, and what a later invocation must then redo."""

    method: str
    stage: str | None
    occurrence: int
    redone_from: str
    puts_after: int


CRASH_POINTS = {
    # Dying during a stage loses that stage's result: its checkpoint rides on the next write.
    "stage1": CrashPoint("advance", "stage2_trends", 1, "stage1_generating", 12),
    "month 6": CrashPoint("advance", "stage3_month_7", 1, "stage3_month_6", 12),
    # Storing ticks every month here, so months 1-5 are checkpointed and only 6-12 are rewritten.
    "storing month 6": CrashPoint("put_events", None, 6, "storing", 7),
    "validating": CrashPoint("iter_events", None, 1, "validating", 0),
}


@pytest.mark.parametrize("point", CRASH_POINTS.values(), ids=CRASH_POINTS.keys())
def test_after_a_crash_the_next_delivery_resumes_once_the_lease_expired(
    harness: Harness, point: CrashPoint
) -> None:
    harness.store.crash_on = crash_at(
        point.method, stage=point.stage, occurrence=point.occurrence, error=ProcessDiedError()
    )
    with pytest.raises(ProcessDiedError):
        harness.run(owner="dies", tick_seconds=10)
    crashed = harness.record()
    assert (crashed.status, crashed.lease_owner) == ("processing", "dies")
    assert harness.store.calls["release"] == 0
    harness.store.crash_on = None

    assert harness.run(owner="too-early").status_code == 503

    harness.now = datetime.fromtimestamp(crashed.lease_until or 0, UTC) + timedelta(seconds=1)
    harness.store.forget_calls()
    outcome = harness.run(owner="resumes", tick_seconds=10)

    assert outcome.body["status"] == "completed"
    assert harness.advanced_stages() == list(STAGE_NAMES[STAGE_NAMES.index(point.redone_from) :])
    assert harness.store.calls["put_events"] == point.puts_after
    assert_completed_exactly(harness)


@dataclass(frozen=True)
class StoreFailure:
    """An ordinary store error during a run: which call, and what the run had finished."""

    method: str
    stage: str | None
    occurrence: int
    failing_stage: str
    stored_months: int


STORE_FAILURES = {
    "storing month 3": StoreFailure("put_events", None, 3, "storing", 2),
    "month 4 write": StoreFailure("advance", "stage3_month_4", 1, "stage3_month_4", 0),
}


@pytest.mark.parametrize("failure", STORE_FAILURES.values(), ids=STORE_FAILURES.keys())
def test_an_error_in_a_stage_is_500_and_releases_the_lease_keeping_the_checkpoint(
    harness: Harness, failure: StoreFailure
) -> None:
    harness.store.crash_on = crash_at(
        failure.method,
        stage=failure.stage,
        occurrence=failure.occurrence,
        error=RuntimeError("throttled"),
    )

    # A clock that moves makes every stage write its progress (none is coalesced).
    outcome = harness.run(tick_seconds=10)

    assert outcome.status_code == 500
    assert outcome.body == {"error": f"{failure.failing_stage} failed: RuntimeError"}
    record = harness.record()
    assert (record.status, record.lease_owner, record.lease_until) == ("processing", None, None)
    done_before = STAGE_NAMES[: STAGE_NAMES.index(failure.failing_stage)]
    assert record.checkpoint.finished == done_before
    assert record.checkpoint.stored_months == failure.stored_months
    assert harness.store.calls["release"] == 1

    # QStash's retry resumes at once (the lease is free) and redoes nothing that was finished.
    harness.store.crash_on = None
    harness.store.forget_calls()
    assert harness.run(owner="owner-2").body["status"] == "completed"
    assert not set(harness.advanced_stages()) & set(done_before)
    assert harness.store.calls["put_events"] == 12 - failure.stored_months
    assert_completed_exactly(harness)


@pytest.mark.parametrize(
    "takeover",
    [
        pytest.param(
            {"lease_owner": "intruder", "lease_until": T0.timestamp() + 500}, id="new owner"
        ),
        pytest.param(
            {"status": "failed", "lease_owner": None, "lease_until": None}, id="failed meanwhile"
        ),
    ],
)
def test_a_lost_lease_stops_the_run_with_200_and_no_further_writes(
    harness: Harness, takeover: dict[str, Any]
) -> None:
    def take_over(name: str, arguments: dict[str, Any]) -> None:
        if name == "advance" and arguments["stage"] == "stage3_month_3":
            harness.store.put_record(harness.record().model_copy(update=takeover))

    harness.store.crash_on = take_over

    outcome = harness.run(tick_seconds=10)

    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "lease_lost": True}
    last = harness.store.log[-1]
    assert (last.method, last.arguments["stage"]) == ("advance", "stage3_month_3")
    assert harness.store.calls["advance"] == STAGE_NAMES.index("stage3_month_3") + 1
    assert harness.store.calls["release"] == harness.store.calls["put_events"] == 0
    record = harness.record()
    assert record.current_stage == "stage3_month_2"
    assert {key: getattr(record, key) for key in takeover} == takeover


def test_a_validation_failure_fails_the_scenario_without_a_retry() -> None:
    class DropsAnAprilEvent(InMemoryScenarioStore):
        """Loses one stored event of April on the way back."""

        def iter_events(self, scenario_id: str) -> Iterator[BusinessEvent]:
            events = list(super().iter_events(scenario_id))
            dropped = next(i for i, event in enumerate(events) if event.month == 4)
            return iter(events[:dropped] + events[dropped + 1 :])

    harness = Harness(DropsAnAprilEvent())
    harness.store.create(queued_record())

    outcome = harness.run()

    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "status": "failed", "reason": "validation failed"}
    record = harness.record()
    assert record.status == "failed"
    assert record.current_stage == "failed"
    assert record.lease_owner is None
    assert record.error is not None
    assert record.error.startswith("Validation failed:")
    assert "April" in record.error
    assert harness.store.calls["complete"] == 0
    assert harness.store.calls["fail"] == 1


# Handing over to continuations.


def test_short_on_time_after_the_first_stage_the_run_continues_elsewhere(
    harness: Harness,
) -> None:
    outcome = harness.run(remaining_ms=RESERVE_MS - 1)

    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "status": "continued", "continuation": 1}
    assert harness.continuations == [
        GenerationMessage(scenario_id=SCENARIO_ID, run=1, continuation=1)
    ]
    record = harness.record()
    assert (record.status, record.lease_owner) == ("processing", None)
    assert record.checkpoint.finished == ("starting",)
    assert record.checkpoint.continuations == 1
    assert harness.store.calls == Counter(acquire_lease=1, advance=1, release=1)


def test_a_continuation_that_cannot_be_sent_is_503_with_the_lease_released(
    harness: Harness,
) -> None:
    harness.continue_error = ConnectionError("qstash down")

    outcome = harness.run(remaining_ms=RESERVE_MS - 1)

    assert outcome.status_code == 503
    assert "qstash down" in outcome.body["error"]
    record = harness.record()
    assert record.lease_owner is None
    assert record.checkpoint.finished == ("starting",)


def test_tiny_budgets_still_complete_one_unit_of_work_per_invocation(harness: Harness) -> None:
    message = FIRST_MESSAGE
    invocations = 0
    for invocations in range(1, 101):
        outcome = harness.run(message, owner=f"owner-{invocations}", remaining_ms=1)
        assert outcome.status_code == 200
        if outcome.body["status"] == "completed":
            break
        assert outcome.body == {"ok": True, "status": "continued", "continuation": invocations}
        message = harness.continuations[-1]

    assert_completed_exactly(harness)
    # 15 stages before storing, one month stored per invocation, then validation.
    assert invocations == 15 + 12 + 1
    assert harness.store.calls["put_events"] == 12
    assert [m.continuation for m in harness.continuations] == list(range(1, invocations))


# The service around the runner.


@dataclass
class Sender:
    """Records the messages it is asked to send; answers as a queued dispatch."""

    sent: list[GenerationMessage] = field(default_factory=list)

    def __call__(self, message: GenerationMessage) -> DispatchResult:
        self.sent.append(message)
        return DispatchResult(queued=True, message_id=f"msg_{len(self.sent)}")


@pytest.mark.parametrize("seed", [0, 42, MAX_SEED])
def test_start_generation_records_a_queued_scenario_and_sends_one_message(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(service_module.secrets, "randbelow", lambda _: pytest.fail("seed drawn"))
    store, send = InMemoryScenarioStore(), Sender()

    record, dispatched = start_generation(
        GenerateRequest.model_validate({"scenarioType": "hotel", "seed": seed}),
        store=store,
        send=send,
        now=lambda: T0,
    )

    assert (record.status, record.progress, record.run, record.seed) == ("queued", 0, 1, seed)
    assert (record.created_at, record.updated_at) == (T0, T0)
    assert store.peek(record.scenario_id) == record
    assert send.sent == [GenerationMessage(scenario_id=record.scenario_id, run=1)]
    assert send.sent[0].deduplication_id() == record.scenario_id
    assert dispatched == DispatchResult(queued=True, message_id="msg_1")
    assert store.calls == Counter(create=1)


def test_start_generation_chooses_a_seed_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounds: list[int] = []

    def randbelow(bound: int) -> int:
        bounds.append(bound)
        return 123_456

    monkeypatch.setattr(service_module.secrets, "randbelow", randbelow)
    store = InMemoryScenarioStore()

    record, _ = start_generation(
        GenerateRequest.model_validate({"scenarioType": "bakery"}), store=store, send=Sender()
    )

    assert record.seed == 123_456
    assert bounds == [MAX_SEED]
    stored = store.peek(record.scenario_id)
    assert stored is not None
    assert stored.seed == 123_456


def test_every_started_scenario_gets_its_own_valid_id() -> None:
    store, send = InMemoryScenarioStore(), Sender()
    ids = {
        start_generation(
            GenerateRequest.model_validate({"scenarioType": "bakery"}), store=store, send=send
        )[0].scenario_id
        for _ in range(5)
    }
    assert len(ids) == 5
    # The routes only accept 32 hex digits, and the worker's messages must carry them too.
    assert all(re.fullmatch(SCENARIO_ID_PATTERN, scenario_id) for scenario_id in ids)
    assert all(re.fullmatch(r"[a-f0-9]{32}", scenario_id) for scenario_id in ids)


def test_retry_generation_starts_run_two_of_a_failed_scenario(harness: Harness) -> None:
    harness.store.put_record(
        queued_record(
            status="failed",
            progress=70,
            error="boom",
            checkpoint=Checkpoint(finished=("starting",), stored_months=3),
        )
    )
    send = Sender()

    record, _ = retry_generation(SCENARIO_ID, store=harness.store, send=send, now=lambda: T0)

    assert (record.status, record.run, record.progress, record.error) == ("queued", 2, 0, None)
    assert record.checkpoint == Checkpoint()
    assert send.sent == [GenerationMessage(scenario_id=SCENARIO_ID, run=2)]
    assert send.sent[0].deduplication_id() != SCENARIO_ID

    # The old run's late messages are now stale; the new run completes from scratch.
    assert harness.run(GenerationMessage(scenario_id=SCENARIO_ID, run=1)).body["stale"] is True
    assert harness.run(send.sent[0]).body["status"] == "completed"
    assert_completed_exactly(harness)
    assert harness.record().run == 2


@pytest.mark.parametrize("status", ["queued", "processing", "completed"])
def test_retry_generation_refuses_anything_but_a_failed_scenario(
    harness: Harness, status: ScenarioStatus
) -> None:
    harness.store.put_record(queued_record(status=status))
    send = Sender()

    with pytest.raises(NotRetryableError) as refused:
        retry_generation(SCENARIO_ID, store=harness.store, send=send)

    assert refused.value.record is not None
    assert refused.value.record.status == status
    assert send.sent == []
    assert harness.record().run == 1


def test_retry_generation_of_an_unknown_scenario_has_no_record() -> None:
    send = Sender()
    with pytest.raises(NotRetryableError) as refused:
        retry_generation("unknown-id", store=InMemoryScenarioStore(), send=send)
    assert refused.value.record is None
    assert send.sent == []


def tag_of(record: ScenarioRecord) -> str:
    return entity_tag(status_view(record))


@pytest.mark.parametrize(
    ("changes", "changes_tag"),
    [
        pytest.param({"progress": 36}, True, id="progress"),
        pytest.param({"current_stage": "stage2_trends"}, True, id="stage"),
        pytest.param({"updated_at": T0 + timedelta(seconds=1)}, True, id="updated"),
        pytest.param({"lease_owner": "other", "lease_until": 1.0}, False, id="lease"),
        pytest.param({"checkpoint": Checkpoint(stored_months=4)}, False, id="checkpoint"),
        pytest.param({}, False, id="nothing"),
    ],
)
def test_the_entity_tag_changes_exactly_when_the_status_shown_changes(
    changes: dict[str, Any], changes_tag: bool
) -> None:
    before = queued_record(status="processing", progress=35, current_stage="stage1_generating")
    after = before.model_copy(update=changes)

    assert (tag_of(after) != tag_of(before)) is changes_tag
    assert tag_of(before).startswith('"')
    assert tag_of(before).endswith('"')


def test_entity_tags_are_stable_across_calls() -> None:
    record = queued_record()
    assert tag_of(record) == tag_of(record.model_copy(deep=True))


def test_a_generation_nothing_would_take_is_failed_not_left_queued() -> None:
    store = InMemoryScenarioStore()

    def refusing_send(message: GenerationMessage) -> DispatchResult:
        raise RuntimeError("no QStash and no fallback")

    with pytest.raises(NotQueuedError) as refused:
        start_generation(
            GenerateRequest.model_validate({"scenarioType": "bakery"}),
            store=store,
            send=refusing_send,
        )
    record = store.get(refused.value.record.scenario_id)
    assert record is not None
    assert record.status == "failed"
    assert record.error is not None
    assert "no QStash and no fallback" in record.error


def test_a_failed_final_write_is_retried_by_validating_again(harness: Harness) -> None:
    harness.store.crash_on = crash_at("complete", error=RuntimeError("throttled"))

    first = harness.run()

    assert first.status_code == 500
    assert first.body == {"error": "validating failed: RuntimeError"}
    assert "validating" not in harness.record().checkpoint.finished
    harness.store.crash_on = None
    harness.store.forget_calls()
    assert harness.run(owner="owner-2").body["status"] == "completed"
    # Nothing before validation is redone: only validation and the final write.
    assert harness.store.calls["put_events"] == 0
    assert harness.store.calls["iter_events"] == 1
    assert_completed_exactly(harness)
