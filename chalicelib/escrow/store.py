"""How escrows are kept: the interface the domain code uses, and its narrow errors.

A change of state is one conditional write from the state it must start in, so two requests
racing on one escrow can never both win, and a released escrow can never be refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from chalicelib.escrow.models import Action, Escrow, EscrowState, Transition


class EscrowExistsError(Exception):
    """An escrow with that id was already created."""


class EscrowNotFoundError(Exception):
    """No escrow has that id."""


class TransitionRefusedError(Exception):
    """The escrow is not in the state the transition starts from; `escrow` is as it is now."""

    def __init__(self, escrow: Escrow) -> None:
        super().__init__(f"escrow {escrow.escrow_id} is {escrow.state}")
        self.escrow = escrow


class AuditEntry(BaseModel):
    """One line of an escrow's audit log: the `sequence`-th transition of its history."""

    model_config = ConfigDict(frozen=True)

    escrow_id: str
    sequence: int
    action: Action
    state: EscrowState
    at: datetime
    amount: int
    currency: str
    note: str | None = None
    job_id: str


class EscrowStore(Protocol):
    """Persistence of escrows and their audit log."""

    def create(self, escrow: Escrow) -> None:
        """Store a new escrow; raises `EscrowExistsError` if the id is taken."""
        ...

    def get(self, escrow_id: str) -> Escrow | None:
        """The escrow, or None."""
        ...

    def transition(self, escrow_id: str, *, start: EscrowState, change: Transition) -> Escrow:
        """Move the escrow from `start` to `change.state`, appending `change` to its history.

        Raises `EscrowNotFoundError` for an unknown id and `TransitionRefusedError` (with the
        escrow as it is) when it is not in `start`. Returns the escrow as changed.
        """
        ...

    def record_jobs(self, escrow_id: str, jobs: Mapping[str, str]) -> Escrow:
        """Add side effect key -> job id entries (an existing key keeps its first job id).

        Raises `EscrowNotFoundError` for an unknown id. Returns the escrow as changed.
        """
        ...

    def put_audit(self, entry: AuditEntry) -> None:
        """Write the entry under a key made of its escrow and sequence (a repeat overwrites)."""
        ...

    def audit_log(self, escrow_id: str) -> list[AuditEntry]:
        """The escrow's audit entries, in sequence order."""
        ...
