"""Turning HTTP requests into validated models, and problems into clear 4xx answers.

A pydantic `ValidationError` escaping a Chalice view is a 500 that no middleware sees, so views
wrap themselves with `answers_problems` and raise `HttpProblem` for anything the client got wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.json_documents import UnreadableJsonError, read_json

MAX_BODY_BYTES = 64 * 1024
ModelT = TypeVar("ModelT", bound=BaseModel)


class HttpProblem(Exception):
    """A client error: answered as `{"error": message, **details}` with `status`."""

    def __init__(self, status: int, message: str, /, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details

    def response(self) -> Response:
        """The problem as a JSON response."""
        return json_response({**self.details, "error": self.message}, self.status)


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response that is never cached by a browser or a proxy."""
    return Response(
        body=body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as `[{field, reason}]`, the shape every 400 of the API uses."""
    return [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "reason": item["msg"]}
        for item in error.errors(include_url=False)
    ]


def raw_body(request: Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The request's body as sent; 413 when it is larger than `max_bytes`."""
    raw = request.raw_body or b""
    body = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(body) > max_bytes:
        raise HttpProblem(413, f"body larger than {max_bytes} bytes")
    return body


def parse_body(request: Request, model: type[ModelT], max_bytes: int = MAX_BODY_BYTES) -> ModelT:
    """The JSON body validated as `model`; 413 when too large, 400 with reasons when invalid."""
    body = raw_body(request, max_bytes)
    try:
        data = read_json(body or b"null")
    except UnreadableJsonError as exc:
        raise HttpProblem(400, "body is not valid JSON", detail=str(exc)) from exc
    return validated(model, data)


def validated(model: type[ModelT], data: Any) -> ModelT:
    """`data` validated as `model`, or a 400 listing every field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise HttpProblem(400, "invalid request", fields=field_errors(exc)) from exc


def answers_problems(view: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a view so `HttpProblem` becomes its JSON answer."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except HttpProblem as problem:
            return problem.response()

    return wrapper
