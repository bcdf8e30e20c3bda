"""LonghaulApi over a mock transport: each answer becomes its model or its ApiError."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from longhaul_cli.api import (
    ConflictError,
    InvalidRequestError,
    LonghaulApi,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnexpectedAnswerError,
    UnreachableError,
    retry_after_seconds,
)

STATUS_BODY = {
    "scenarioId": "abc",
    "scenarioType": "hotel",
    "status": "processing",
    "progress": 55,
    "currentStage": "stage3_month_3",
    "message": "Generating March events...",
    "error": None,
    "eventsCount": 0,
    "createdAt": "2024-03-01T10:00:00+00:00",
    "updatedAt": "2024-03-01T10:00:05+00:00",
    "completedAt": None,
    "addedLater": "kept",
}


def api_answering(handler: Callable[[httpx.Request], httpx.Response]) -> LonghaulApi:
    return LonghaulApi("http://longhaul.test/", transport=httpx.MockTransport(handler))


def test_a_status_is_parsed_and_its_etag_kept_and_sent_back() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"'})
        return httpx.Response(200, json=STATUS_BODY, headers={"ETag": '"v1"'})

    with api_answering(handler) as api:
        first = api.status("abc")
        second = api.status("abc", etag=first.etag)
    assert first.status is not None
    assert (first.status.message, first.status.progress, first.etag) == (
        "Generating March events...",
        55,
        '"v1"',
    )
    assert second.status is None
    assert seen[0].url == "http://longhaul.test/api/status/abc"
    # Fields the client does not know are kept for --json.
    assert first.status.model_dump(by_alias=True)["addedLater"] == "kept"


def test_an_id_cannot_escape_its_path_segment() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"error": "no such scenario"})

    with api_answering(handler) as api, pytest.raises(NotFoundError):
        api.status("../generate")
    assert seen == ["/api/status/..%2Fgenerate"]


def test_a_400_carries_every_field_reason() -> None:
    body = {"error": "invalid request", "fields": [{"field": "seed", "reason": "too big"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"scenarioType": "bakery", "seed": -1}
        return httpx.Response(400, json=body)

    with api_answering(handler) as api, pytest.raises(InvalidRequestError) as refused:
        api.generate("bakery", seed=-1)
    assert [(f.field, f.reason) for f in refused.value.fields] == [("seed", "too big")]


@pytest.mark.parametrize(
    ("answer", "error_type"),
    [
        (httpx.Response(404, json={"error": "no such scenario"}), NotFoundError),
        (httpx.Response(409, json={"error": "this one is completed"}), ConflictError),
        (httpx.Response(503, json={"error": "could not be queued"}), ServerError),
        (httpx.Response(502, text="<html>bad gateway</html>"), ServerError),
        (
            httpx.Response(403, json={"message": "Missing Authentication Token"}),
            UnexpectedAnswerError,
        ),
        (httpx.Response(202, json={"unexpected": True}), UnexpectedAnswerError),
    ],
)
def test_each_answer_becomes_its_error(answer: httpx.Response, error_type: type[Exception]) -> None:
    with api_answering(lambda _: answer) as api, pytest.raises(error_type):
        api.retry("abc")


def test_a_429_says_how_long_to_wait() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"error": "too many"}, headers={"Retry-After": "7"})

    with api_answering(handler) as api, pytest.raises(RateLimitedError) as limited:
        api.generate("bakery")
    assert limited.value.retry_after == 7


def test_no_answer_at_all_is_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with api_answering(handler) as api, pytest.raises(UnreachableError) as down:
        api.events("abc", limit=5)
    assert "http://longhaul.test" in down.value.message


def test_retry_after_may_be_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
