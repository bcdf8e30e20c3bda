"""Event bus routes: one verified webhook per topic, QStash's failure callback, and the admin
routes over dead letters."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from chalice.app import Blueprint, Response

from chalicelib.handlers.http import HttpProblem, answers_problems, json_response, validated
from chalicelib.handlers.qstash_edge import outcome_response, qstash_consumer, verified_body
from chalicelib.json_documents import UnreadableJsonError, read_json
from chalicelib.queue.outcome import DeliveryOutcome

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chalicelib.events.catalogue import Topic
    from chalicelib.events.deadletters import DeadLetter

blueprint = Blueprint(__name__)


def _consume(topic: Topic) -> Response:
    """Verify the delivery for the topic's route, then hand it to its consumer."""
    from chalicelib.events.catalogue import webhook_path
    from chalicelib.events.consumers import consume_delivery
    from chalicelib.events.subscribers import load_subscribers
    from chalicelib.queue.idempotency import settings_persistence
    from chalicelib.settings import get_settings

    settings = get_settings()
    body = verified_body(blueprint.current_request, settings, webhook_path(topic))
    outcome = consume_delivery(
        topic,
        body,
        registry=load_subscribers(),
        persistence=settings_persistence(settings),
        # With the Lambda's context, a delivery that crashed mid-handler stops blocking its
        # retries once that invocation would have timed out. Chalice's (and its local server's)
        # context has the same `get_remaining_time_in_millis` Powertools reads.
        lambda_context=cast("LambdaContext | None", blueprint.lambda_context),
    )
    return outcome_response(outcome)


@blueprint.route("/api/webhooks/commands", methods=["POST"])
@qstash_consumer
def commands_webhook() -> Response:
    """QStash delivers a `commands` event."""
    return _consume("commands")


@blueprint.route("/api/webhooks/orders", methods=["POST"])
@qstash_consumer
def orders_webhook() -> Response:
    """QStash delivers an `orders` event."""
    return _consume("orders")


@blueprint.route("/api/webhooks/notifications", methods=["POST"])
@qstash_consumer
def notifications_webhook() -> Response:
    """QStash delivers a `notifications` event."""
    return _consume("notifications")


@blueprint.route("/api/webhooks/inventory", methods=["POST"])
@qstash_consumer
def inventory_webhook() -> Response:
    """QStash delivers an `inventory` event."""
    return _consume("inventory")


@blueprint.route("/api/webhooks/analytics", methods=["POST"])
@qstash_consumer
def analytics_webhook() -> Response:
    """QStash delivers an `analytics` event."""
    return _consume("analytics")


@blueprint.route("/api/events/failure-callback", methods=["POST"])
@qstash_consumer
def failure_callback() -> Response:
    """QStash gave up on an event: keep it as a dead letter and announce it."""
    from chalicelib.events.deadletters import UnreadableDeadLetterError, record_dead_letter
    from chalicelib.events.dynamodb_deadletters import dead_letter_store
    from chalicelib.events.publishing import (
        FAILURE_CALLBACK_PATH,
        EventBusNotConfiguredError,
        event_bus,
    )
    from chalicelib.queue.callbacks import DeliveryCallback
    from chalicelib.queue.publisher import PublishFailedError
    from chalicelib.settings import get_settings

    settings = get_settings()
    body = verified_body(blueprint.current_request, settings, FAILURE_CALLBACK_PATH)
    try:
        callback = validated(DeliveryCallback, read_json(body))
    except UnreadableJsonError as exc:
        raise HttpProblem(400, f"unreadable failure callback: {type(exc).__name__}") from exc
    try:
        record, created = record_dead_letter(
            callback, store=dead_letter_store(settings), bus=event_bus(settings)
        )
    except UnreadableDeadLetterError as exc:
        raise HttpProblem(400, str(exc)) from exc
    except (PublishFailedError, EventBusNotConfiguredError) as exc:
        # Recorded, not yet announced: the callback's retry announces it (deduplicated).
        return outcome_response(DeliveryOutcome.retry_later(f"announcement failed: {exc}"))
    return json_response({"ok": True, "deadLetterId": record.dead_letter_id, "created": created})


def _require_admin() -> None:
    from chalicelib.handlers.bearer import require_bearer
    from chalicelib.settings import get_settings

    require_bearer(blueprint.current_request, get_settings().admin_token)


def _view(record: DeadLetter) -> dict[str, object]:
    return record.model_dump(mode="json", by_alias=True)


@blueprint.route("/api/deadletters", methods=["GET"])
@answers_problems
def dead_letters() -> Response:
    """One page of dead letters, newest first; `nextCursor` for the next (admin token)."""
    from chalicelib.events.deadletters import DeadLettersQuery
    from chalicelib.events.dynamodb_deadletters import dead_letter_store
    from chalicelib.settings import get_settings

    _require_admin()
    query = validated(DeadLettersQuery, dict(blueprint.current_request.query_params or {}))
    records, next_cursor = dead_letter_store(get_settings()).page(
        limit=query.limit, cursor=query.cursor
    )
    return json_response(
        {"deadLetters": [_view(record) for record in records], "nextCursor": next_cursor}
    )


@blueprint.route("/api/deadletters/{dead_letter_id}/replay", methods=["POST"])
@answers_problems
def replay(dead_letter_id: str) -> Response:
    """Publish the dead letter's event again (202); 404 unknown, 409 replayed (admin token)."""
    from chalicelib.events.deadletters import (
        DEAD_LETTER_ID_PATTERN,
        AlreadyReplayedError,
        DeadLetterNotFoundError,
        replay_dead_letter,
    )
    from chalicelib.events.dynamodb_deadletters import dead_letter_store
    from chalicelib.events.publishing import EventBusNotConfiguredError, event_bus
    from chalicelib.queue.publisher import PublishFailedError
    from chalicelib.settings import get_settings

    _require_admin()
    if not re.match(DEAD_LETTER_ID_PATTERN, dead_letter_id):
        raise HttpProblem(404, "no such dead letter")
    settings = get_settings()
    try:
        record = replay_dead_letter(
            dead_letter_id, store=dead_letter_store(settings), bus=event_bus(settings)
        )
    except DeadLetterNotFoundError as exc:
        raise HttpProblem(404, "no such dead letter") from exc
    except AlreadyReplayedError as exc:
        raise HttpProblem(
            409, "the dead letter was replayed already", deadLetter=_view(exc.record)
        ) from exc
    except (PublishFailedError, EventBusNotConfiguredError) as exc:
        raise HttpProblem(503, f"the event could not be published; try again ({exc})") from exc
    return json_response(_view(record), 202)
