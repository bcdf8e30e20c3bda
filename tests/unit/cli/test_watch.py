"""watch_scenario(): ETag polling, backoff through outages, and the timeout, on a fake clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from longhaul_cli.api import (
    ApiError,
    NotFoundError,
    RateLimitedError,
    ScenarioStatus,
    ServerError,
    StatusPoll,
    UnreachableError,
)
from longhaul_cli.watch import TransientError, WatchSettings, watch_scenario

SCENARIO_ID = "0123456789abcdef0123456789abcdef"
NOT_MODIFIED = StatusPoll(status=None, etag=None)


def status(
    state: str = "processing", progress: int = 50, message: str = "Storing..."
) -> StatusPoll:
    """A status answer whose ETag names its content, as the API's does."""
    now = datetime(2024, 3, 1, tzinfo=UTC)
    body = ScenarioStatus(
        scenario_id=SCENARIO_ID,
        scenario_type="bakery",
        status=state,
        progress=progress,
        current_stage=state,
        message=message,
        created_at=now,
        updated_at=now,
    )
    return StatusPoll(status=body, etag=f'"{state}-{progress}"')


def unreachable() -> UnreachableError:
    return UnreachableError("connection refused")


class FakeClock:
    """Time that passes only when the watch sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedSource:
    """Answers polls from a script (a poll to return, or an error to raise); then repeats
    `then` forever."""

    def __init__(
        self, script: Sequence[StatusPoll | ApiError], then: StatusPoll | ApiError
    ) -> None:
        self.script = list(script)
        self.then = then
        self.etags: list[str | None] = []

    def status(self, scenario_id: str, *, etag: str | None = None) -> StatusPoll:
        assert scenario_id == SCENARIO_ID
        self.etags.append(etag)
        answer = self.script.pop(0) if self.script else self.then
        if isinstance(answer, ApiError):
            raise answer
        if answer is NOT_MODIFIED:
            return StatusPoll(status=None, etag=etag)
        return answer


class RecordingObserver:
    """Remembers what the watch asked to display."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, int]] = []
        self.outages: list[tuple[str, float]] = []

    def show(self, status: ScenarioStatus) -> None:
        self.shown.append((status.status, status.progress))

    def unreachable(self, error: TransientError, retry_in: float) -> None:
        self.outages.append((type(error).__name__, retry_in))


def run(
    source: ScriptedSource, settings: WatchSettings | None = None
) -> tuple[str, FakeClock, RecordingObserver, ScenarioStatus | None]:
    clock, observer = FakeClock(), RecordingObserver()
    outcome = watch_scenario(
        source, SCENARIO_ID, observer, settings=settings, clock=clock, sleep=clock.sleep
    )
    assert outcome.elapsed == clock.now
    return outcome.result, clock, observer, outcome.status


def test_an_unchanged_status_costs_a_304_and_is_not_shown_again() -> None:
    source = ScriptedSource(
        [status(progress=50), NOT_MODIFIED, NOT_MODIFIED], then=status("completed", 100)
    )
    result, clock, observer, last = run(source)
    assert result == "completed"
    assert last is not None
    assert last.events_count == 0
    # The first poll has nothing to compare with; every later one sends the last ETag.
    assert source.etags == [None, '"processing-50"', '"processing-50"', '"processing-50"']
    assert observer.shown == [("processing", 50), ("completed", 100)]
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_outages_back_off_exponentially_up_to_the_cap_and_start_over_after_an_answer() -> None:
    source = ScriptedSource(
        [*(unreachable() for _ in range(5)), status(progress=60), unreachable()],
        then=status("completed", 100),
    )
    result, clock, observer, _ = run(source)
    assert result == "completed"
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 1.0, 1.0]
    assert [delay for _, delay in observer.outages] == [1.0, 2.0, 4.0, 8.0, 8.0, 1.0]
    assert observer.shown == [("processing", 60), ("completed", 100)]


def test_a_304_after_an_outage_puts_the_last_status_back_on_display() -> None:
    source = ScriptedSource(
        [status(progress=40), unreachable(), NOT_MODIFIED], then=status("completed", 100)
    )
    result, _, observer, _ = run(source)
    assert result == "completed"
    assert observer.shown == [("processing", 40), ("processing", 40), ("completed", 100)]


def test_server_errors_are_ridden_out_like_outages() -> None:
    busy = ServerError("busy", status_code=503, details={})
    source = ScriptedSource([busy, busy], then=status("completed", 100))
    result, clock, observer, _ = run(source)
    assert result == "completed"
    assert observer.outages == [("ServerError", 1.0), ("ServerError", 2.0)]
    assert clock.sleeps == [1.0, 2.0]


def test_a_rate_limit_waits_as_long_as_the_api_asks() -> None:
    source = ScriptedSource(
        [RateLimitedError("slow down", retry_after=30)], then=status("completed", 100)
    )
    result, clock, _, _ = run(source)
    assert result == "completed"
    assert clock.sleeps == [30.0]


def test_a_failed_generation_ends_the_watch_with_its_status() -> None:
    source = ScriptedSource([status(progress=10)], then=status("failed", 35))
    result, clock, _, last = run(source)
    assert result == "failed"
    assert last is not None
    assert last.status == "failed"
    assert clock.sleeps == [1.0]


def test_a_status_that_never_finishes_times_out_at_the_deadline_not_after() -> None:
    source = ScriptedSource([status(progress=85)], then=NOT_MODIFIED)
    result, clock, _, last = run(source, WatchSettings(timeout=5.5))
    assert result == "timed_out"
    assert last is not None
    assert last.progress == 85
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5]
    assert len(source.etags) == 7  # One last look right at the deadline.


def test_an_api_that_never_answers_times_out_with_the_backoff_capped() -> None:
    source = ScriptedSource([], then=unreachable())
    result, clock, observer, last = run(source, WatchSettings(timeout=40))
    assert result == "timed_out"
    assert last is None
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 1.0]
    assert clock.now == 40
    assert len(source.etags) == 9
    # Each outage is reported with the wait that really follows it; the last one, at the
    # deadline, is followed by no wait and reported by the outcome instead.
    assert [delay for _, delay in observer.outages] == clock.sleeps


def test_an_unknown_scenario_ends_the_watch_at_once() -> None:
    source = ScriptedSource([], then=NotFoundError("no such scenario", status_code=404))
    with pytest.raises(NotFoundError):
        run(source)
    assert source.etags == [None]


def test_ctrl_c_stops_the_watch_where_it_is() -> None:
    class Interrupted(ScriptedSource):
        def status(self, scenario_id: str, *, etag: str | None = None) -> StatusPoll:
            if len(self.etags) == 2:
                raise KeyboardInterrupt
            return super().status(scenario_id, etag=etag)

    source = Interrupted([status(progress=20)], then=NOT_MODIFIED)
    with pytest.raises(KeyboardInterrupt):
        run(source)
    assert len(source.etags) == 2
