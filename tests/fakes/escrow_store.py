"""`InMemoryEscrowStore`: the `EscrowStore` protocol in memory, with the same conditions (and
the same errors when one fails) as `DynamoDBEscrowStore`.

`fail_record_jobs` makes `record_jobs` raise, to simulate DynamoDB failing after an enqueue.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.escrow.models import Escrow, EscrowState, Transition
from chalicelib.escrow.store import (
    AuditEntry,
    EscrowExistsError,
    EscrowNotFoundError,
    TransitionRefusedError,
)


class InMemoryEscrowStore:
    """A faithful in-memory `EscrowStore`."""

    def __init__(self) -> None:
        self._escrows: dict[str, Escrow] = {}
        self._audit: dict[tuple[str, int], AuditEntry] = {}
        self.fail_record_jobs: Exception | None = None

    def create(self, escrow: Escrow) -> None:
        """Store a new escrow; raises `EscrowExistsError` if the id is taken."""
        if escrow.escrow_id in self._escrows:
            raise EscrowExistsError(escrow.escrow_id)
        self._escrows[escrow.escrow_id] = escrow

    def get(self, escrow_id: str) -> Escrow | None:
        """The escrow, or None."""
        return self._escrows.get(escrow_id)

    def transition(self, escrow_id: str, *, start: EscrowState, change: Transition) -> Escrow:
        """Move from `start` to `change.state`, or raise as DynamoDB's condition would."""
        current = self._escrows.get(escrow_id)
        if current is None:
            raise EscrowNotFoundError(escrow_id)
        if current.state != start:
            raise TransitionRefusedError(current)
        changed = current.model_copy(
            update={
                "state": change.state,
                "updated_at": change.at,
                "transitions": (*current.transitions, change),
            }
        )
        self._escrows[escrow_id] = changed
        return changed

    def record_jobs(self, escrow_id: str, jobs: Mapping[str, str]) -> Escrow:
        """Add job ids under keys not recorded yet."""
        if self.fail_record_jobs is not None:
            raise self.fail_record_jobs
        current = self._escrows.get(escrow_id)
        if current is None:
            raise EscrowNotFoundError(escrow_id)
        changed = current.model_copy(update={"jobs": {**jobs, **current.jobs}})
        self._escrows[escrow_id] = changed
        return changed

    def put_audit(self, entry: AuditEntry) -> None:
        """Write the entry under (escrow, sequence): a repeat overwrites."""
        self._audit[(entry.escrow_id, entry.sequence)] = entry

    def audit_log(self, escrow_id: str) -> list[AuditEntry]:
        """The escrow's entries in sequence order."""
        return [self._audit[key] for key in sorted(self._audit) if key[0] == escrow_id]
