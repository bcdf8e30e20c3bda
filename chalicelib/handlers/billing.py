"""Billing routes: send an invoice or a reminder, the consumers QStash calls, and the metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from chalice.app import Blueprint, Response

from chalicelib.handlers.http import (
    HttpProblem,
    answers_problems,
    json_response,
    parse_body,
    validated,
)
from chalicelib.handlers.qstash_edge import outcome_response, qstash_consumer, verified_body

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from chalicelib.billing.models import BillingKind

blueprint = Blueprint(__name__)


def _lambda_context() -> LambdaContext:
    # Lambda's own context in AWS; locally Chalice's stand-in, which has the one method
    # Powertools reads (the remaining time).
    return cast("LambdaContext", blueprint.lambda_context)


def _send(kind: BillingKind) -> Response:
    from chalicelib.billing.models import IdempotencyKeyHeader, SendRequest
    from chalicelib.billing.runtime import BillingNotConfiguredError, billing_environment
    from chalicelib.billing.service import (
        STILL_RUNNING_RETRY_SECONDS,
        SendFailedError,
        SendInProgressError,
        StoreUnavailableError,
        billing_message,
        request_send,
    )
    from chalicelib.settings import get_settings

    current = blueprint.current_request
    request = parse_body(current, SendRequest)
    header = validated(
        IdempotencyKeyHeader, {"Idempotency-Key": current.headers.get("idempotency-key")}
    )
    message = billing_message(kind, request, header.value)
    try:
        env = billing_environment(get_settings())
    except BillingNotConfiguredError as exc:
        raise HttpProblem(503, f"billing is not configured: {exc}") from exc
    try:
        result = request_send(message, env, _lambda_context())
    except SendFailedError as exc:
        raise HttpProblem(
            502,
            "the mail server did not accept the email; nothing was sent, "
            "so it is safe to retry with the same requestId",
            requestId=message.request_id,
        ) from exc
    except SendInProgressError:
        return json_response(
            {
                "error": "this email is being sent by another request; retry shortly",
                "requestId": message.request_id,
            },
            409,
            {"Retry-After": str(STILL_RUNNING_RETRY_SECONDS)},
        )
    except StoreUnavailableError as exc:
        raise HttpProblem(
            503,
            "the once-only store is unavailable; retry with the same requestId",
            requestId=message.request_id,
        ) from exc
    return json_response(result.model_dump(mode="json"), 202 if result.queued else 200)


@blueprint.route("/api/invoices/send", methods=["POST"])
@answers_problems
def send_invoice() -> Response:
    """Send an invoice email: 202 when queued on QStash, 200 when sent inline (with why)."""
    return _send("invoice")


@blueprint.route("/api/reminders/send", methods=["POST"])
@answers_problems
def send_reminder() -> Response:
    """Send a payment reminder email: 202 when queued on QStash, 200 when sent inline."""
    return _send("reminder")


def _consume(kind: BillingKind) -> Response:
    from chalicelib.billing.models import BillingMessage
    from chalicelib.billing.runtime import (
        CONSUMER_PATHS,
        BillingNotConfiguredError,
        billing_environment,
    )
    from chalicelib.billing.service import deliver
    from chalicelib.queue.outcome import DeliveryOutcome
    from chalicelib.settings import get_settings

    settings = get_settings()
    current = blueprint.current_request
    verified_body(current, settings, CONSUMER_PATHS[kind])
    message = parse_body(current, BillingMessage)
    if message.kind != kind:
        raise HttpProblem(400, f"a {message.kind} message delivered to the {kind} consumer")
    try:
        env = billing_environment(settings)
    except BillingNotConfiguredError as exc:
        # A configuration fix lets a later attempt succeed, so QStash keeps the message.
        return outcome_response(DeliveryOutcome.retry_later(f"billing is not configured: {exc}"))
    return outcome_response(deliver(message, env, _lambda_context()))


@blueprint.route("/api/queue/send_invoice", methods=["POST"])
@qstash_consumer
def consume_invoice() -> Response:
    """QStash delivers a queued invoice email: sent once, however often it is delivered."""
    return _consume("invoice")


@blueprint.route("/api/queue/send_reminder", methods=["POST"])
@qstash_consumer
def consume_reminder() -> Response:
    """QStash delivers a queued reminder email: sent once, however often it is delivered."""
    return _consume("reminder")


@blueprint.route("/api/queue/failed", methods=["POST"])
@qstash_consumer
def failed() -> Response:
    """QStash gave up on a billing message (it stays in QStash's DLQ): count it dead, log it."""
    from chalicelib.billing.models import BillingMessage
    from chalicelib.billing.runtime import (
        FAILURE_CALLBACK_PATH,
        BillingNotConfiguredError,
        counter_store,
    )
    from chalicelib.billing.service import record_dead
    from chalicelib.queue.callbacks import DeliveryCallback, UnreadableCallbackError
    from chalicelib.queue.outcome import DeliveryOutcome
    from chalicelib.settings import get_settings

    settings = get_settings()
    current = blueprint.current_request
    verified_body(current, settings, FAILURE_CALLBACK_PATH)
    callback = parse_body(current, DeliveryCallback)
    try:
        message = validated(BillingMessage, callback.source_json())
        last_error = callback.last_error()
    except UnreadableCallbackError as exc:
        raise HttpProblem(400, f"unreadable failure callback: {exc}") from exc
    try:
        counters = counter_store(settings)
    except BillingNotConfiguredError as exc:
        return outcome_response(DeliveryOutcome.retry_later(f"billing is not configured: {exc}"))
    record_dead(message, callback, last_error, counters)
    return json_response({"ok": True, "dead": message.effect_key})


@blueprint.route("/api/queue/metrics", methods=["GET"])
@answers_problems
def metrics() -> Response:
    """Billing's counters (queued, sent, duplicates, dead, fallbacks by reason) and the share
    of send requests that fell back to the inline path."""
    from chalicelib.billing.metrics import MetricsUnavailableError, read_metrics
    from chalicelib.billing.runtime import BillingNotConfiguredError, counter_store
    from chalicelib.settings import get_settings

    try:
        snapshot = read_metrics(counter_store(get_settings()))
    except (BillingNotConfiguredError, MetricsUnavailableError) as exc:
        raise HttpProblem(503, f"metrics unavailable: {exc}") from exc
    return json_response(snapshot.model_dump(mode="json"))
