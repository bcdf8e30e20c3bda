"""Escrow routes: create an escrow, read it with its side-effect jobs, change its state."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.handlers.http import HttpProblem, answers_problems, json_response, parse_body

if TYPE_CHECKING:
    from chalicelib.escrow.models import Resolution
    from chalicelib.escrow.service import ChangeAction, EscrowOutcome

blueprint = Blueprint(__name__)


def _checked_id(escrow_id: str) -> str:
    # An id that cannot exist is a 404 without a database read. The models are imported here,
    # not with the module, so loading the app does not build them (`re` caches the pattern).
    from chalicelib.escrow.models import ESCROW_ID_PATTERN

    if not re.match(ESCROW_ID_PATTERN, escrow_id):
        raise HttpProblem(404, "no such escrow")
    return escrow_id


def _answer(outcome: EscrowOutcome, status: int = 200) -> Response:
    from chalicelib.escrow.service import escrow_view

    return json_response(escrow_view(outcome.escrow), status)


def _change(
    escrow_id: str, action: ChangeAction, note: str | None, resolution: Resolution | None = None
) -> Response:
    """Apply `action`: 200 with the escrow (also for a repeat), 404 unknown, 409 wrong state."""
    from datetime import UTC, datetime

    from chalicelib.escrow.runtime import escrow_store
    from chalicelib.escrow.service import change_escrow
    from chalicelib.escrow.store import EscrowNotFoundError, TransitionRefusedError
    from chalicelib.jobs.queue import enqueue_jobs
    from chalicelib.settings import get_settings

    try:
        outcome = change_escrow(
            _checked_id(escrow_id),
            action,
            store=escrow_store(get_settings()),
            enqueue=enqueue_jobs,
            now=datetime.now(UTC),
            note=note,
            resolution=resolution,
        )
    except EscrowNotFoundError as exc:
        raise HttpProblem(404, "no such escrow") from exc
    except TransitionRefusedError as refused:
        raise HttpProblem(
            409,
            f"cannot {action} an escrow that is {refused.escrow.state}",
            escrowId=refused.escrow.escrow_id,
            state=refused.escrow.state,
        ) from refused
    return _answer(outcome)


def _note() -> str | None:
    """The optional `{"note": ...}` body of release, refund and dispute."""
    from chalicelib.escrow.models import NoteRequest

    request = blueprint.current_request
    if not request.raw_body:
        return None
    return parse_body(request, NoteRequest).note


@blueprint.route("/api/escrow", methods=["POST"])
@answers_problems
def create() -> Response:
    """Create a funded escrow and enqueue its confirmation: 201 with the escrow."""
    from datetime import UTC, datetime

    from chalicelib.escrow.models import CreateEscrowRequest
    from chalicelib.escrow.runtime import escrow_store
    from chalicelib.escrow.service import create_escrow
    from chalicelib.jobs.queue import enqueue_jobs
    from chalicelib.settings import get_settings

    request = parse_body(blueprint.current_request, CreateEscrowRequest)
    outcome = create_escrow(
        request, store=escrow_store(get_settings()), enqueue=enqueue_jobs, now=datetime.now(UTC)
    )
    response = _answer(outcome, 201)
    response.headers["Location"] = f"/api/escrow/{outcome.escrow.escrow_id}"
    return response


@blueprint.route("/api/escrow/{escrow_id}", methods=["GET"])
@answers_problems
def show(escrow_id: str) -> Response:
    """The escrow, its history, and each side-effect job with its state on the queue."""
    from chalicelib.escrow.runtime import escrow_store, job_states
    from chalicelib.escrow.service import escrow_view
    from chalicelib.settings import get_settings

    escrow = escrow_store(get_settings()).get(_checked_id(escrow_id))
    if escrow is None:
        raise HttpProblem(404, "no such escrow")
    return json_response(escrow_view(escrow, job_states(escrow.jobs.values())))


@blueprint.route("/api/escrow/{escrow_id}/release", methods=["POST"])
@answers_problems
def release(escrow_id: str) -> Response:
    """Pay the held funds to the seller (funded -> released)."""
    return _change(escrow_id, "release", _note())


@blueprint.route("/api/escrow/{escrow_id}/refund", methods=["POST"])
@answers_problems
def refund(escrow_id: str) -> Response:
    """Return the held funds to the buyer (funded -> refunded)."""
    return _change(escrow_id, "refund", _note())


@blueprint.route("/api/escrow/{escrow_id}/dispute", methods=["POST"])
@answers_problems
def dispute(escrow_id: str) -> Response:
    """Freeze the funds until the dispute is resolved (funded -> disputed)."""
    return _change(escrow_id, "dispute", _note())


@blueprint.route("/api/escrow/{escrow_id}/dispute/resolve", methods=["POST"])
@answers_problems
def resolve(escrow_id: str) -> Response:
    """Settle a dispute: `{"resolution": "release" | "refund", "note": ...}`."""
    from chalicelib.escrow.models import ResolveRequest

    body = parse_body(blueprint.current_request, ResolveRequest)
    return _change(escrow_id, "resolve", body.note, body.resolution)
