"""Bind the request's ids to every log line and echo the correlation id to the caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from chalice.app import Blueprint, Request, Response

from chalicelib.observability import logger, safe_log_id

blueprint = Blueprint(__name__)

_REQUEST_KEYS = ("request_id", "message_id")


@blueprint.middleware("http")
def bind_request_ids(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Append request, message and correlation ids to the logger for this request's lifetime."""
    request_id = str(event.context.get("requestId") or uuid.uuid4())
    correlation_id = safe_log_id(event.headers.get("x-correlation-id")) or request_id
    logger.set_correlation_id(correlation_id)
    logger.append_keys(
        request_id=request_id, message_id=safe_log_id(event.headers.get("upstash-message-id"))
    )
    try:
        response = get_response(event)
    finally:
        logger.remove_keys(list(_REQUEST_KEYS))
        logger.set_correlation_id(None)
    response.headers["X-Correlation-Id"] = correlation_id
    return response
