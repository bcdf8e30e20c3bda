"""The edge of every route QStash calls: verify the signature, answer by QStash's contract."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.handlers.http import HttpProblem, raw_body
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.settings import Settings


def verified_body(request: Request, settings: Settings, path: str) -> bytes:
    """The raw body, once `Upstash-Signature` is proven to sign it for this route's public URL.

    401 when the signature is missing or wrong, or when no public URL or keys are configured.
    """
    from chalicelib.queue.signature import SignatureRejectedError, verify_configured

    body = raw_body(request)
    try:
        verify_configured(
            settings,
            signature=request.headers.get("upstash-signature"),
            body=body,
            url=settings.public_url(path),
        )
    except SignatureRejectedError as exc:
        raise HttpProblem(401, f"signature rejected: {exc}") from exc
    return body


def outcome_response(outcome: DeliveryOutcome) -> Response:
    """A consumer's outcome as a Chalice response."""
    return Response(body=outcome.body, status_code=outcome.status_code, headers={**outcome.headers})


def qstash_consumer(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a route QStash calls: a payload the consumer cannot use is dead-lettered at once.

    A 400 would only be retried by QStash to the same end, so a client problem other than an
    authentication failure (401) becomes 489 with `Upstash-NonRetryable-Error`.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except HttpProblem as problem:
            if problem.status == 401:
                return problem.response()
            return outcome_response(DeliveryOutcome.rejected_permanently(problem.message))

    return wrapper
