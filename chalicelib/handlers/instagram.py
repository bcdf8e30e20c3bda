"""Instagram (Meta) webhook routes: the subscription handshake, the signed event POST, and the
QStash consumer that stores each messaging event."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.handlers.http import (
    HttpProblem,
    answers_problems,
    json_response,
    parse_body,
    raw_body,
    validated,
)
from chalicelib.handlers.qstash_edge import outcome_response, qstash_consumer, verified_body
from chalicelib.ingestion.runtime import CONSUMER_PATH

blueprint = Blueprint(__name__)

WEBHOOK_PATH = "/api/webhooks/instagram"
# Meta batches events; a webhook body can be larger than the API's usual bodies.
WEBHOOK_MAX_BYTES = 512 * 1024


@blueprint.route(WEBHOOK_PATH, methods=["GET"])
@answers_problems
def subscribe() -> Response:
    """Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` is ours."""
    from chalicelib.ingestion.verification import (
        SubscriptionQuery,
        SubscriptionRefusedError,
        accept_subscription,
    )
    from chalicelib.settings import get_settings

    query = validated(SubscriptionQuery, dict(blueprint.current_request.query_params or {}))
    token = get_settings().instagram_verify_token
    try:
        challenge = accept_subscription(query, None if token is None else token.get_secret_value())
    except SubscriptionRefusedError as exc:
        raise HttpProblem(403, str(exc)) from exc
    return Response(
        body=challenge,
        status_code=200,
        headers={
            "Content-Type": "text/plain",
            "Cache-Control": "no-store",
            # The challenge is the caller's text: never let a browser treat it as a page.
            "X-Content-Type-Options": "nosniff",
        },
    )


@blueprint.route(WEBHOOK_PATH, methods=["POST"])
@answers_problems
def receive() -> Response:
    """Verify Meta's signature, queue every messaging event in one batch, answer at once.

    401 for a bad signature, 400 for a body that is not Meta's shape (nothing queued in either
    case), 503 when QStash cannot take the batch, so that Meta delivers the webhook again.
    """
    from chalicelib.ingestion.payload import InstagramWebhook
    from chalicelib.ingestion.runtime import IngestionNotConfiguredError, publish_events
    from chalicelib.ingestion.verification import SignatureRejectedError, verify_payload_signature
    from chalicelib.observability import count_metric, logger
    from chalicelib.queue.publisher import PublishFailedError
    from chalicelib.settings import get_settings

    request, settings = blueprint.current_request, get_settings()
    if settings.instagram_app_secret is None:
        raise HttpProblem(503, "instagram ingestion is not configured")
    try:
        verify_payload_signature(
            settings.instagram_app_secret.get_secret_value(),
            raw_body(request, WEBHOOK_MAX_BYTES),
            request.headers.get("x-hub-signature-256"),
        )
    except SignatureRejectedError as exc:
        count_metric("InstagramSignatureRejected")
        raise HttpProblem(401, f"signature rejected: {exc}") from exc
    events = parse_body(request, InstagramWebhook, WEBHOOK_MAX_BYTES).events()
    handled = [event for event in events if event.kind is not None]
    try:
        if handled:
            publish_events(handled, settings)
    except (PublishFailedError, IngestionNotConfiguredError) as exc:
        logger.warning("instagram events not queued", extra={"reason": str(exc)})
        count_metric("InstagramPublishFailed")
        raise HttpProblem(503, "events could not be queued; deliver again") from exc
    return json_response({"received": len(handled), "ignored": len(events) - len(handled)})


@blueprint.route(CONSUMER_PATH, methods=["POST"])
@qstash_consumer
def ingest() -> Response:
    """QStash delivers one messaging event: store it in its conversation, once (200 with
    `duplicate`; 489 for an event that can never be stored; 503 while the store is down)."""
    from chalicelib.ingestion.payload import MessagingEvent
    from chalicelib.ingestion.runtime import conversation_store
    from chalicelib.ingestion.service import consume_messaging_event
    from chalicelib.settings import get_settings

    request, settings = blueprint.current_request, get_settings()
    verified_body(request, settings, CONSUMER_PATH)
    event = parse_body(request, MessagingEvent)
    return outcome_response(consume_messaging_event(event, conversation_store(settings)))
