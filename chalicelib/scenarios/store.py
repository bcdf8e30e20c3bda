"""How scenarios are kept: the interface the domain code uses, and its narrow errors.

Every change of state is one conditional write, so two invocations racing on one scenario can
never both win, a late retry can never move progress backwards, and a finished scenario can
never be reopened except by an explicit retry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol

from chalicelib.scenarios.models import BusinessEvent, ValidationReport
from chalicelib.scenarios.records import Checkpoint, ScenarioRecord


class ScenarioExistsError(Exception):
    """A scenario with that id was already created."""


class LeaseUnavailableError(Exception):
    """The scenario cannot be run by this invocation now; `record` says why (None: unknown)."""

    def __init__(self, record: ScenarioRecord | None) -> None:
        super().__init__("scenario lease unavailable")
        self.record = record


class LeaseLostError(Exception):
    """A write on behalf of a run failed its condition: the lease is no longer ours."""


class NotRetryableError(Exception):
    """Only a failed scenario can be run again; `record` is its state (None: unknown)."""

    def __init__(self, record: ScenarioRecord | None) -> None:
        super().__init__("scenario is not failed")
        self.record = record


class ScenarioStore(Protocol):
    """Persistence of scenarios, their checkpoints and their events."""

    def create(self, record: ScenarioRecord) -> None:
        """Store a new scenario; raises `ScenarioExistsError` if the id is taken."""
        ...

    def get(self, scenario_id: str, *, with_checkpoint: bool = True) -> ScenarioRecord | None:
        """The scenario (its checkpoint and validation only when asked for), or None."""
        ...

    def acquire_lease(
        self, scenario_id: str, *, run: int, owner: str, now: datetime, lease_seconds: int
    ) -> ScenarioRecord:
        """Give `owner` the right to run `run` of the scenario until the lease expires.

        Succeeds when the scenario is queued or processing under `run` with no live lease.
        Raises `LeaseUnavailableError` (with the current record) otherwise.
        """
        ...

    def advance(
        self,
        scenario_id: str,
        *,
        owner: str,
        stage: str,
        progress: int,
        checkpoint: Checkpoint,
        now: datetime,
        lease_seconds: int,
    ) -> None:
        """Record progress and the checkpoint, and extend the lease, in one write.

        Raises `LeaseLostError` if `owner` no longer holds the lease or progress would go back.
        """
        ...

    def release(
        self, scenario_id: str, *, owner: str, checkpoint: Checkpoint, now: datetime
    ) -> None:
        """Store the checkpoint and give the lease up (the run continues in another invocation)."""
        ...

    def complete(
        self,
        scenario_id: str,
        *,
        owner: str,
        checkpoint: Checkpoint,
        events_count: int,
        validation: ValidationReport,
        now: datetime,
    ) -> None:
        """Mark the scenario completed at 100 %; raises `LeaseLostError` if not ours."""
        ...

    def fail(
        self, scenario_id: str, *, run: int, error: str, now: datetime, owner: str | None = None
    ) -> bool:
        """Mark `run` failed unless it finished or another invocation holds a live lease on it
        (`owner` may fail its own run); True if it changed."""
        ...

    def restart(self, scenario_id: str, *, now: datetime) -> ScenarioRecord:
        """Queue a failed scenario again as a new run; raises `NotRetryableError` otherwise."""
        ...

    def put_events(self, scenario_id: str, events: Sequence[BusinessEvent]) -> None:
        """Write events under keys made from their ids (a rerun overwrites, never duplicates)."""
        ...

    def iter_events(self, scenario_id: str) -> Iterator[BusinessEvent]:
        """Every stored event of the scenario, in event id order."""
        ...

    def page_events(
        self, scenario_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[BusinessEvent], str | None]:
        """Up to `limit` events after `cursor`, and the cursor of the next page (None: last)."""
        ...
