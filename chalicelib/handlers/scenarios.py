"""Scenario routes: start a generation, watch it, retry it, read its results."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.handlers.http import (
    HttpProblem,
    answers_problems,
    json_response,
    parse_body,
    validated,
)
from chalicelib.handlers.qstash_edge import outcome_response, qstash_consumer, verified_body
from chalicelib.json_documents import UnreadableJsonError, read_json
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.scenarios.messages import SCENARIO_ID_PATTERN

if TYPE_CHECKING:
    from chalicelib.queue.dispatch import DispatchResult
    from chalicelib.ratelimit import RateDecision
    from chalicelib.scenarios.service import NotQueuedError

blueprint = Blueprint(__name__)

_SCENARIO_ID = re.compile(SCENARIO_ID_PATTERN)


class EventsQuery(BaseModel):
    """Query string of the events listing."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, pattern=r"^m(0[1-9]|1[0-2])-\d{6}$")


def _checked_id(scenario_id: str) -> str:
    # An id that cannot exist is a 404 without a database read.
    if not _SCENARIO_ID.match(scenario_id):
        raise HttpProblem(404, "no such scenario")
    return scenario_id


def _not_queued(refused: NotQueuedError) -> HttpProblem:
    return HttpProblem(
        503,
        "the generation could not be queued; try again",
        scenarioId=refused.record.scenario_id,
        retryUrl=f"/api/scenarios/{refused.record.scenario_id}/retry",
    )


def _dispatch_fields(dispatch: DispatchResult) -> dict[str, object]:
    return {"queued": dispatch.queued, "fallback": dispatch.fallback}


def rate_limited(decision: RateDecision) -> Response:
    """A refused generation: 429, saying when to try again in the body and in Retry-After."""
    seconds = decision.retry_after_seconds
    return json_response(
        {"error": f"too many generations; try again in {seconds} s", "retryAfter": seconds},
        429,
        {"Retry-After": str(seconds)},
    )


@blueprint.route("/api/generate", methods=["POST"])
@answers_problems
def generate() -> Response:
    """Record and queue a generation: 202 with where to watch it, 429 past the client's limit."""
    from chalicelib.ratelimit import client_identity, generate_limiter
    from chalicelib.scenarios.runtime import generation_sender, scenario_store
    from chalicelib.scenarios.service import GenerateRequest, NotQueuedError, start_generation
    from chalicelib.settings import get_settings

    current = blueprint.current_request
    request = parse_body(current, GenerateRequest)
    settings = get_settings()
    # Counted only once the body is valid: a rejected body starts nothing, so it should not use
    # up the client's allowance. Refused before anything is recorded or queued.
    decision = generate_limiter(settings).check(client_identity(current.headers, current.context))
    if not decision.allowed:
        return rate_limited(decision)
    try:
        record, dispatch = start_generation(
            request, store=scenario_store(settings), send=generation_sender(settings)
        )
    except NotQueuedError as refused:
        raise _not_queued(refused) from refused
    status_url = f"/api/status/{record.scenario_id}"
    return json_response(
        {
            "scenarioId": record.scenario_id,
            "status": record.status,
            "statusUrl": status_url,
            **_dispatch_fields(dispatch),
        },
        202,
        {"Location": status_url},
    )


@blueprint.route("/api/status/{scenario_id}", methods=["GET"])
@answers_problems
def status(scenario_id: str) -> Response:
    """The scenario's progress, from one read; 304 when the caller's ETag still matches."""
    from chalicelib.scenarios.runtime import scenario_store
    from chalicelib.scenarios.service import entity_tag, status_view
    from chalicelib.settings import get_settings

    record = scenario_store(get_settings()).get(_checked_id(scenario_id), with_checkpoint=False)
    if record is None:
        raise HttpProblem(404, "no such scenario")
    body = status_view(record)
    tag = entity_tag(body)
    if blueprint.current_request.headers.get("if-none-match") == tag:
        return Response(
            body="", status_code=304, headers={"ETag": tag, "Cache-Control": "no-store"}
        )
    return json_response(body, headers={"ETag": tag})


@blueprint.route("/api/scenarios/{scenario_id}/retry", methods=["POST"])
@answers_problems
def retry(scenario_id: str) -> Response:
    """A new run of a failed scenario (202); 409 for any other state, 404 if unknown."""
    from chalicelib.scenarios.runtime import generation_sender, scenario_store
    from chalicelib.scenarios.service import NotQueuedError, retry_generation
    from chalicelib.scenarios.store import NotRetryableError
    from chalicelib.settings import get_settings

    settings = get_settings()
    try:
        record, dispatch = retry_generation(
            _checked_id(scenario_id),
            store=scenario_store(settings),
            send=generation_sender(settings),
        )
    except NotQueuedError as refused:
        raise _not_queued(refused) from refused
    except NotRetryableError as refused:
        if refused.record is None:
            raise HttpProblem(404, "no such scenario") from refused
        raise HttpProblem(
            409, f"only a failed scenario can be retried; this one is {refused.record.status}"
        ) from refused
    return json_response(
        {
            "scenarioId": record.scenario_id,
            "status": record.status,
            "run": record.run,
            "statusUrl": f"/api/status/{record.scenario_id}",
            **_dispatch_fields(dispatch),
        },
        202,
    )


@blueprint.route("/api/scenarios/{scenario_id}", methods=["GET"])
@answers_problems
def result(scenario_id: str) -> Response:
    """Profile, monthly trends, totals and validation report (as far as the run got)."""
    from chalicelib.scenarios.runtime import scenario_store
    from chalicelib.scenarios.service import result_view
    from chalicelib.settings import get_settings

    record = scenario_store(get_settings()).get(_checked_id(scenario_id))
    if record is None:
        raise HttpProblem(404, "no such scenario")
    return json_response(result_view(record))


@blueprint.route("/api/scenarios/{scenario_id}/events", methods=["GET"])
@answers_problems
def events(scenario_id: str) -> Response:
    """One page of the scenario's events in their stable order; `nextCursor` for the next."""
    from chalicelib.scenarios.runtime import scenario_store
    from chalicelib.settings import get_settings

    query = validated(EventsQuery, dict(blueprint.current_request.query_params or {}))
    store = scenario_store(get_settings())
    scenario_id = _checked_id(scenario_id)
    page, next_cursor = store.page_events(scenario_id, limit=query.limit, cursor=query.cursor)
    if not page and query.cursor is None and store.get(scenario_id, with_checkpoint=False) is None:
        raise HttpProblem(404, "no such scenario")
    return json_response(
        {
            "scenarioId": scenario_id,
            "events": [event.model_dump(mode="json", by_alias=True) for event in page],
            "nextCursor": next_cursor,
        }
    )


@blueprint.route("/api/scenarios/failure-callback", methods=["POST"])
@qstash_consumer
def failure_callback() -> Response:
    """QStash gave up on a generation message: mark that run failed with a readable reason."""
    from datetime import UTC, datetime

    from chalicelib.queue.callbacks import DeliveryCallback, UnreadableCallbackError
    from chalicelib.scenarios.messages import GenerationMessage
    from chalicelib.scenarios.runtime import FAILURE_CALLBACK_PATH, scenario_store
    from chalicelib.scenarios.service import fail_exhausted_run
    from chalicelib.settings import get_settings

    settings = get_settings()
    body = verified_body(blueprint.current_request, settings, FAILURE_CALLBACK_PATH)
    try:
        callback = validated(DeliveryCallback, read_json(body))
        message = validated(GenerationMessage, callback.source_json())
        error = callback.last_error()
    except (UnreadableJsonError, UnreadableCallbackError) as exc:
        raise HttpProblem(400, f"unreadable failure callback: {type(exc).__name__}") from exc
    store, now = scenario_store(settings), datetime.now(UTC)
    changed = fail_exhausted_run(
        store, message, attempts=callback.attempts, last_error=error, now=lambda: now
    )
    if not changed:
        current = store.get(message.scenario_id, with_checkpoint=False)
        if current is not None and current.lease_until and current.lease_until >= now.timestamp():
            # A duplicate of the message is still running the generation: ask QStash to call
            # back later, when that run has finished or its lease has lapsed.
            wait = int(current.lease_until - now.timestamp()) + 1
            return outcome_response(
                DeliveryOutcome.retry_later("the generation is still running", wait)
            )
    return json_response({"ok": True, "changed": changed})
