"""The generate route's rate limit: who the client is, and what the route makes of a decision."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from pydantic import ValidationError

from chalicelib import ratelimit
from chalicelib.queue.dispatch import DispatchResult
from chalicelib.ratelimit import (
    ALLOWED,
    NoLimit,
    RateDecision,
    UpstashRateLimiter,
    client_identity,
    generate_limiter,
    seconds_until,
)
from chalicelib.scenarios import runtime
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.settings import Settings, get_settings
from tests.fakes.scenario_store import InMemoryScenarioStore

BAKERY = b'{"scenarioType": "bakery", "seed": 3}'


@dataclass
class FakeLimiter:
    """Answers `decision` to every check and remembers whom it was asked about."""

    decision: RateDecision = ALLOWED
    checked: list[str] = field(default_factory=list)

    def check(self, identifier: str) -> RateDecision:
        """Remember `identifier`; answer the preset decision."""
        self.checked.append(identifier)
        return self.decision


@dataclass
class GenerateRoute:
    """`POST /api/generate` with a fake limiter, an in-memory store and a recording sender."""

    client: Client
    limiter: FakeLimiter
    store: InMemoryScenarioStore
    sent: list[GenerationMessage]

    def post(
        self, body: bytes = BAKERY, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """Status, headers and JSON body of one request."""
        response = self.client.http.post(
            "/api/generate",
            body=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        return response.status_code, response.headers, json.loads(response.body)


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GenerateRoute]:
    limiter = FakeLimiter()
    store = InMemoryScenarioStore()
    sent: list[GenerationMessage] = []

    def send(message: GenerationMessage) -> DispatchResult:
        sent.append(message)
        return DispatchResult(queued=True, message_id="msg-1")

    # The view looks these up when it runs, so replacing the module attributes reaches it.
    monkeypatch.setattr(ratelimit, "generate_limiter", lambda settings: limiter)
    monkeypatch.setattr(runtime, "scenario_store", lambda settings: store)
    monkeypatch.setattr(runtime, "generation_sender", lambda settings: send)
    get_settings.cache_clear()
    from app import app

    # An empty project folder: no stage configuration leaks into the environment.
    with Client(app, stage_name="local", project_dir=str(tmp_path)) as client:
        yield GenerateRoute(client, limiter, store, sent)
    get_settings.cache_clear()


def test_a_refused_generation_is_429_with_when_to_retry_and_records_nothing(
    route: GenerateRoute,
) -> None:
    route.limiter.decision = RateDecision(allowed=False, retry_after_seconds=7)
    status, headers, body = route.post()
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert body["retryAfter"] == 7
    assert set(body) == {"error", "retryAfter"}
    assert not route.store.calls
    assert route.sent == []


def test_an_allowed_generation_is_recorded_and_queued(route: GenerateRoute) -> None:
    status, headers, body = route.post()
    assert status == 202, body
    assert "Retry-After" not in headers
    assert route.store.calls["create"] == 1
    assert [message.scenario_id for message in route.sent] == [body["scenarioId"]]


def test_behind_a_local_proxy_the_route_limits_the_first_forwarded_address(
    route: GenerateRoute,
) -> None:
    route.post(headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
    route.post()
    # Chalice's test client reports 127.0.0.1, a loopback proxy, so the forwarded address
    # counts; without the header, the source IP itself.
    assert route.limiter.checked == ["203.0.113.9", "127.0.0.1"]


def test_an_invalid_body_is_400_without_using_up_the_allowance(route: GenerateRoute) -> None:
    status, _, _ = route.post(b'{"scenarioType": "castle"}')
    assert status == 400
    assert route.limiter.checked == []


@pytest.mark.parametrize(
    ("headers", "context", "expected"),
    [
        (
            {"x-forwarded-for": "198.51.100.7"},
            {"identity": {"sourceIp": "10.1.1.1"}},
            "10.1.1.1",
        ),
        (
            {"x-forwarded-for": "198.51.100.7"},
            {"identity": {"sourceIp": "127.0.0.1"}},
            "198.51.100.7",
        ),
        ({"x-forwarded-for": " 2001:DB8:0::1 , 10.0.0.1"}, {}, "2001:db8::1"),
        ({}, {"identity": {"sourceIp": "10.1.1.1"}}, "10.1.1.1"),
        ({"x-forwarded-for": "x" * 500}, {"identity": {"sourceIp": "10.1.1.1"}}, "10.1.1.1"),
        ({"x-forwarded-for": ""}, {"identity": {"sourceIp": None}}, "anonymous"),
        ({}, {"identity": None}, "anonymous"),
        ({}, {}, "anonymous"),
    ],
    ids=[
        "source-ip-wins-over-a-spoofable-header",
        "forwarded-behind-a-loopback-proxy",
        "first-of-several-canonical",
        "source-ip",
        "junk",
        "blank",
        "none",
        "empty",
    ],
)
def test_client_identity(headers: dict[str, str], context: dict[str, Any], expected: str) -> None:
    assert client_identity(headers, context) == expected


@pytest.mark.parametrize(
    ("reset_at", "expected"),
    [(100.0, 1), (100.2, 1), (110.01, 11), (160.0, 60), (90.0, 1)],
)
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(
    reset_at: float, expected: int
) -> None:
    assert seconds_until(reset_at, now=100.0) == expected


def test_a_limit_of_zero_turns_the_limit_off() -> None:
    limiter = generate_limiter(Settings.model_validate({"GENERATE_RATE_LIMIT": "0"}))
    assert isinstance(limiter, NoLimit)
    assert limiter.check("198.51.100.7") == ALLOWED


def test_the_limit_keys_are_namespaced() -> None:
    limiter = generate_limiter(Settings())
    assert isinstance(limiter, UpstashRateLimiter)
    assert limiter.prefix == "longhaul:ratelimit:generate"


def test_without_redis_the_limit_fails_open_and_counts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    metrics: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(
        ratelimit, "count_metric", lambda name, **dims: metrics.append((name, dims))
    )
    limiter = generate_limiter(Settings.model_validate({"GENERATE_RATE_LIMIT": "1"}))
    assert [limiter.check("198.51.100.7") for _ in range(2)] == [ALLOWED, ALLOWED]
    assert metrics == [("RateLimitUnavailable", {"limit": "generate"})] * 2


def test_the_defaults_are_ten_a_minute() -> None:
    settings = Settings()
    assert (settings.generate_rate_limit, settings.generate_rate_window_seconds) == (10, 60)


@pytest.mark.parametrize(
    "variables",
    [{"GENERATE_RATE_LIMIT": "-1"}, {"GENERATE_RATE_WINDOW_SECONDS": "0"}],
)
def test_a_negative_limit_or_an_empty_window_is_refused(variables: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate(variables)
