"""Watching a generation: poll its status until it finishes, riding out outages.

The loop takes its clock and its sleep as arguments, so tests drive it with fakes and no real
time passes. It knows nothing about the terminal: it reports to a `WatchObserver`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from longhaul_cli.api import (
    RateLimitedError,
    ScenarioStatus,
    ServerError,
    StatusPoll,
    UnexpectedAnswerError,
    UnreachableError,
)

# What may pass by itself: the API restarting, a proxy's 502, a rate limit. A 404 or a bad
# request will not change by waiting, so those end the watch (the caller reports them).
TRANSIENT_ERRORS = (UnreachableError, ServerError, UnexpectedAnswerError, RateLimitedError)
TransientError = UnreachableError | ServerError | UnexpectedAnswerError | RateLimitedError


class StatusSource(Protocol):
    """Where statuses come from: `LonghaulApi`, or a fake in tests."""

    def status(self, scenario_id: str, *, etag: str | None = None) -> StatusPoll:
        """The scenario's status, or `status=None` when `etag` still matches."""
        ...


class WatchObserver(Protocol):
    """Who is told what the watch sees (the terminal, or a recorder in tests)."""

    def show(self, status: ScenarioStatus) -> None:
        """The status to display: it changed, or the API answers again after an outage."""
        ...

    def unreachable(self, error: TransientError, retry_in: float) -> None:
        """A poll failed; the next one is in `retry_in` seconds."""
        ...


@dataclass(frozen=True)
class WatchSettings:
    """How often to poll, how to back off, and when to give up."""

    poll_interval: float = 1.0
    timeout: float = 1800.0
    first_backoff: float = 1.0
    max_backoff: float = 8.0


@dataclass(frozen=True)
class WatchOutcome:
    """How a watch ended; `status` is the last status seen (None if none ever was)."""

    result: Literal["completed", "failed", "timed_out"]
    status: ScenarioStatus | None
    elapsed: float


def watch_scenario(
    source: StatusSource,
    scenario_id: str,
    observer: WatchObserver,
    *,
    settings: WatchSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchOutcome:
    """Poll `scenario_id` until it is completed or failed, or `settings.timeout` runs out.

    Polls send the last ETag, so an unchanged status costs a 304 and is not shown again.
    Transient errors are retried with an exponential backoff capped at `max_backoff` (or the
    API's Retry-After), which starts over after the next answer. Any other `ApiError`
    (e.g. `NotFoundError`) propagates. KeyboardInterrupt propagates too: stopping the watch is
    the caller's decision, and never stops the generation.
    """
    config = settings or WatchSettings()
    started = clock()
    deadline = started + config.timeout
    etag: str | None = None
    last: ScenarioStatus | None = None
    backoff = config.first_backoff
    failing = False
    while True:
        outage: TransientError | None = None
        try:
            poll = source.status(scenario_id, etag=etag)
        except TRANSIENT_ERRORS as error:
            outage = error
            delay = _delay_after(error, backoff)
            backoff = min(backoff * 2, config.max_backoff)
            failing = True
        else:
            backoff = config.first_backoff
            if poll.status is not None:
                etag, last = poll.etag, poll.status
                observer.show(last)
                if last.finished:
                    result: Literal["completed", "failed"] = (
                        "completed" if last.status == "completed" else "failed"
                    )
                    return WatchOutcome(result, last, clock() - started)
            elif failing and last is not None:
                # Unchanged, but the display still says "unreachable": put the status back.
                observer.show(last)
            failing = False
            delay = config.poll_interval
        remaining = deadline - clock()
        if remaining <= 0:
            return WatchOutcome("timed_out", last, clock() - started)
        # Never sleep past the deadline: the last poll happens right at it.
        delay = min(delay, remaining)
        if outage is not None:
            observer.unreachable(outage, delay)
        sleep(delay)


def _delay_after(error: TransientError, backoff: float) -> float:
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        return float(max(error.retry_after, 1))
    return backoff
