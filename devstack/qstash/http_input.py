"""Reading what publishers send: raw destinations, JSON bodies and their expected shapes."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from devstack.qstash.errors import bad_request
from devstack.qstash.publishing import is_url

Model = TypeVar("Model")
AUTH_QUERY_PARAMETER = "qstash_token"


def raw_destination(request: web.Request, prefix: str) -> str:
    """The destination after `prefix`, rebuilt from the raw path and raw query string.

    The decoded path would turn `%2F` into `/` and the parsed query would re-encode values, so
    only the raw request line gives back the URL exactly as the publisher wrote it. A fully
    percent-encoded URL (`https%3A%2F%2F...`) is decoded.
    """
    path, _, query = request.raw_path.partition("?")
    if not path.startswith(prefix):
        raise bad_request(f"malformed path {path!r}")
    destination = path[len(prefix) :]
    if not is_url(destination) and is_url(unquote(destination)):
        destination = unquote(destination)
    # The token may come as a query parameter; it is ours, not part of the destination.
    kept = [
        part for part in query.split("&") if part and part.split("=")[0] != AUTH_QUERY_PARAMETER
    ]
    return f"{destination}?{'&'.join(kept)}" if kept else destination


def caller_ip(request: web.Request) -> str:
    """The address of whoever sent the request."""
    return request.remote or ""


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON (None when empty); a 400 when it is not JSON."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"invalid JSON body: {exc}") from exc


def validate(shape: type[Model], data: Any) -> Model:
    """`data` checked against `shape`; a 400 listing the problems when it does not fit."""
    try:
        return TypeAdapter(shape).validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise bad_request(f"invalid request body: {problems}") from exc


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class BatchItem(_Body):
    """One message of `POST /v2/batch`."""

    destination: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    queue: str | None = None


class QueueUpsert(_Body):
    """The body of `POST /v2/queues`."""

    queue_name: str = Field(alias="queueName")
    parallelism: int = Field(default=1, ge=1)
    paused: bool = False


class EndpointIn(_Body):
    """One endpoint in a URL group request."""

    url: str | None = None
    name: str | None = None


class EndpointsBody(_Body):
    """The body of `POST|DELETE /v2/topics/{name}/endpoints`."""

    endpoints: list[EndpointIn] = Field(min_length=1)


class IdList(_Body):
    """`{"dlqIds": [...]}` or `{"messageIds": [...]}` in bulk requests."""

    dlq_ids: list[str] | None = Field(default=None, alias="dlqIds")
    message_ids: list[str] | None = Field(default=None, alias="messageIds")
