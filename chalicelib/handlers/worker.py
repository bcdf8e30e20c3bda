"""The worker Lambda. QStash reaches it through a Function URL (payload v2, signed); the
fallback reaches it by a direct asynchronous invoke. Either event becomes a `run_generation`."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from chalice.app import Blueprint

from chalicelib.json_documents import UnreadableJsonError, read_json
from chalicelib.queue.outcome import DeliveryOutcome

blueprint = Blueprint(__name__)


def _function_url_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8")


def _as_function_url_response(outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "statusCode": outcome.status_code,
        "headers": {"Content-Type": "application/json", **outcome.headers},
        "body": json.dumps(outcome.body),
    }


_OWN_URLS: dict[str, str] = {}


def _own_function_url(function_name: str, region: str) -> str | None:
    """The worker's Function URL as Lambda reports it (read once per container).

    Deployed by CloudFormation, the worker cannot be told its own URL in its environment (the URL
    depends on the function), so it asks the platform: configuration, never the request. Only a
    successful answer is kept, so one failed look-up does not refuse every later delivery.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if function_name not in _OWN_URLS:
        try:
            config = boto3.client("lambda", region_name=region).get_function_url_config(
                FunctionName=function_name
            )
        except (BotoCoreError, ClientError):
            return None
        _OWN_URLS[function_name] = str(config["FunctionUrl"])
    return _OWN_URLS[function_name]


def _message_data(
    event: dict[str, Any], settings: Any, own_url: str | None
) -> tuple[Any, DeliveryOutcome | None]:
    """The message's JSON data, or the outcome that refuses the event."""
    from chalicelib.queue.signature import SignatureRejectedError, verify_configured
    from chalicelib.scenarios.runtime import DIRECT_EVENT_KEY

    if "requestContext" not in event and DIRECT_EVENT_KEY in event:
        # Only IAM principals allowed to invoke the function can send this shape.
        return event[DIRECT_EVENT_KEY], None
    try:
        body = _function_url_body(event)
    except binascii.Error:
        return None, DeliveryOutcome.rejected_permanently("body is not valid base64")
    headers = event.get("headers") or {}
    try:
        verify_configured(
            settings, signature=headers.get("upstash-signature"), body=body, url=own_url
        )
    except SignatureRejectedError as exc:
        return None, DeliveryOutcome.unauthenticated(f"signature rejected: {exc}")
    try:
        return read_json(body), None
    except UnreadableJsonError:
        return None, DeliveryOutcome.rejected_permanently("body is not JSON")


@blueprint.lambda_function(name="worker")
def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run or resume one scenario generation within this invocation's time."""
    from pydantic import ValidationError

    from chalicelib.observability import logger, safe_log_id
    from chalicelib.scenarios.messages import GenerationMessage
    from chalicelib.scenarios.runner import run_generation
    from chalicelib.scenarios.runtime import DIRECT_EVENT_KEY, run_environment
    from chalicelib.settings import get_settings

    settings = get_settings()
    own_url = settings.worker_url or _own_function_url(context.function_name, settings.aws_region)
    data, refusal = _message_data(event, settings, own_url)
    outcome = refusal
    if outcome is None:
        try:
            message = GenerationMessage.model_validate(data)
        except ValidationError as exc:
            outcome = DeliveryOutcome.rejected_permanently(f"invalid generation message: {exc}")
        else:
            logger.append_keys(
                scenario_id=message.scenario_id,
                message_id=safe_log_id((event.get("headers") or {}).get("upstash-message-id")),
            )
            try:
                outcome = run_generation(
                    message,
                    run_environment(settings, context.get_remaining_time_in_millis, own_url),
                )
            finally:
                # A warm container's next invocation must not log under this scenario.
                logger.remove_keys(["scenario_id", "message_id"])
    if DIRECT_EVENT_KEY in event and outcome.status_code >= 500:
        # Raising makes Lambda retry the asynchronous invoke, as QStash would have.
        raise RuntimeError(outcome.body.get("error", "generation failed"))
    return _as_function_url_response(outcome)


@blueprint.lambda_function(name="fallback_failed")
def fallback_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda's on-failure destination for the worker's asynchronous (fallback) invokes.

    Lambda retries a failed asynchronous invoke twice and then would drop it; this marks the run
    failed with the last error instead, so the work is never lost without a trace.
    """
    from pydantic import ValidationError

    from chalicelib.observability import logger
    from chalicelib.scenarios.messages import GenerationMessage
    from chalicelib.scenarios.runtime import DIRECT_EVENT_KEY, scenario_store
    from chalicelib.scenarios.service import fail_exhausted_run
    from chalicelib.settings import get_settings

    request = event.get("requestPayload")
    try:
        message = GenerationMessage.model_validate((request or {})[DIRECT_EVENT_KEY])
    except (KeyError, TypeError, ValidationError):
        logger.error("a failed invoke that is not a generation", extra={"record": event})
        return {"changed": False}
    context_info = event.get("requestContext") or {}
    response = event.get("responsePayload") or {}
    last_error = response.get("errorMessage") or context_info.get("condition") or "unknown error"
    changed = fail_exhausted_run(
        scenario_store(get_settings()),
        message,
        attempts=int(context_info.get("approximateInvokeCount") or 1),
        last_error=str(last_error)[:500],
    )
    return {"changed": changed}
