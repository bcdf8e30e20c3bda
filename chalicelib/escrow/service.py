"""The escrow use cases: create, release, refund, dispute, resolve, and what a client sees.

A change of state is one conditional write; its side effects are enqueued afterwards, in one
call, and never undo it: an enqueue that fails is logged and counted, and the side effects it
owed stay visible as not enqueued until a repeat of the request (or any later transition)
enqueues them. A repeat of a transition that already happened is answered with the escrow as
it is, so a client retry is safe and heals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chalicelib.escrow.models import (
    CreateEscrowRequest,
    Escrow,
    EscrowState,
    Resolution,
    Transition,
)
from chalicelib.escrow.planning import missing_jobs, planned_jobs
from chalicelib.escrow.store import EscrowStore, TransitionRefusedError
from chalicelib.jobs.models import JobSpec
from chalicelib.jobs.queue import EnqueueFailedError
from chalicelib.observability import count_metric, logger

ChangeAction = Literal["release", "refund", "dispute", "resolve"]
# Enqueue jobs in one call and answer their ids in order (`chalicelib.jobs.queue.enqueue_jobs`);
# raises `EnqueueFailedError` when nothing could be enqueued.
Enqueue = Callable[[Sequence[JobSpec]], list[str]]

_MOVES: dict[str, tuple[EscrowState, EscrowState]] = {
    "release": ("funded", "released"),
    "refund": ("funded", "refunded"),
    "dispute": ("funded", "disputed"),
}
_RESOLVED: dict[Resolution, EscrowState] = {"release": "released", "refund": "refunded"}


@dataclass(frozen=True)
class EscrowOutcome:
    """An escrow after a request, and whether this request changed its state.

    Side effects its history calls for with no job recorded on it were not enqueued (see
    `escrow_view`); a repeat of the request enqueues them.
    """

    escrow: Escrow
    changed: bool


def create_escrow(
    request: CreateEscrowRequest,
    *,
    store: EscrowStore,
    enqueue: Enqueue,
    now: datetime,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> EscrowOutcome:
    """Store a funded escrow and enqueue its confirmation email and audit entry."""
    escrow = Escrow(
        escrow_id=new_id(),
        amount=request.amount,
        currency=request.currency,
        buyer_email=request.buyer_email,
        seller_email=request.seller_email,
        partner_webhook_url=(
            None if request.partner_webhook_url is None else str(request.partner_webhook_url)
        ),
        payment_id=request.payment_id,
        state="funded",
        created_at=now,
        updated_at=now,
        transitions=(Transition(action="create", state="funded", at=now),),
    )
    store.create(escrow)
    return _with_side_effects(store, escrow, enqueue, changed=True)


def change_escrow(
    escrow_id: str,
    action: ChangeAction,
    *,
    store: EscrowStore,
    enqueue: Enqueue,
    now: datetime,
    note: str | None = None,
    resolution: Resolution | None = None,
) -> EscrowOutcome:
    """Apply `action` (with its `resolution` for "resolve") and enqueue its side effects.

    Raises `EscrowNotFoundError` for an unknown id, and `TransitionRefusedError` (with the
    escrow as it is) when the escrow is in a state `action` cannot start from, unless this very
    transition already happened: then the escrow is answered unchanged, and any side effect it
    still owes is enqueued.
    """
    start: EscrowState
    target: EscrowState
    if action == "resolve":
        if resolution is None:
            raise ValueError("resolve needs a resolution")
        start, target = "disputed", _RESOLVED[resolution]
    else:
        start, target = _MOVES[action]
    change = Transition(action=action, state=target, at=now, note=note)
    try:
        escrow = store.transition(escrow_id, start=start, change=change)
    except TransitionRefusedError as refused:
        current = refused.escrow
        if not (current.state == target and current.transitions[-1].action == action):
            raise
        return _with_side_effects(store, current, enqueue, changed=False)
    return _with_side_effects(store, escrow, enqueue, changed=True)


def _with_side_effects(
    store: EscrowStore, escrow: Escrow, enqueue: Enqueue, *, changed: bool
) -> EscrowOutcome:
    """Enqueue what the escrow's history owes and is not recorded yet, then record the ids."""
    owed = missing_jobs(escrow)
    if not owed:
        return EscrowOutcome(escrow, changed)
    log = {"escrow_id": escrow.escrow_id, "effects": [job.effect for job in owed]}
    try:
        job_ids = enqueue([job.spec for job in owed])
    except EnqueueFailedError as exc:
        logger.warning("escrow side effects not enqueued", extra={**log, "error": str(exc)})
        count_metric("EscrowSideEffectsNotEnqueued", state=escrow.state)
        return EscrowOutcome(escrow, changed)
    try:
        escrow = store.record_jobs(
            escrow.escrow_id,
            {job.effect: job_id for job, job_id in zip(owed, job_ids, strict=True)},
        )
    except Exception:
        # The jobs are queued and will run; only their ids are unrecorded. The transition has
        # happened, so this must not fail the request: a repeat records them (the dedupe keys
        # answer the same ids).
        logger.exception("escrow side effects enqueued but not recorded", extra=log)
        count_metric("EscrowSideEffectsNotRecorded", state=escrow.state)
    return EscrowOutcome(escrow, changed)


def escrow_view(escrow: Escrow, job_states: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The escrow as the API shows it, with every side effect its history calls for.

    Each side effect has its job id (None: not enqueued) and state: the queue's state from
    `job_states` (job id -> state) when given, else "enqueued" or "not_enqueued".
    """
    effects = []
    for job in planned_jobs(escrow):
        job_id = escrow.jobs.get(job.effect)
        if job_id is None:
            state = "not_enqueued"
        elif job_states is None:
            state = "enqueued"
        else:
            state = job_states.get(job_id, "unknown")
        effects.append(
            {"effect": job.effect, "jobType": job.spec.job_type, "jobId": job_id, "state": state}
        )
    body = escrow.model_dump(mode="json", by_alias=True, exclude={"jobs"})
    return {
        **body,
        "sideEffects": effects,
        "notEnqueued": [effect["effect"] for effect in effects if effect["jobId"] is None],
    }
