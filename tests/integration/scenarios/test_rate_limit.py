"""The per-client limit on POST /api/generate, counted in the local stack's real Redis."""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import ratelimit
from chalicelib.queue.dispatch import DispatchResult
from chalicelib.scenarios import runtime
from chalicelib.scenarios.dynamodb_store import DynamoDBScenarioStore
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.scenarios.records import ScenarioRecord
from chalicelib.settings import Settings, get_settings

Configure = Callable[..., None]


@dataclass
class Recorded:
    """Scenario ids the app wrote to the store, and sent to the worker, during one test."""

    created: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Set environment variables for the app (re-read at once), restored after the test."""

    def setenv(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield setenv
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    """Record what the app stores (in the real DynamoDB table) and queues from now on.

    Nothing is really queued: these tests are about the limit, and a real generation per request
    would only load the shared stack (test_generation_flow covers the dispatch).
    """
    seen = Recorded()
    create = DynamoDBScenarioStore.create

    def recording_create(store: DynamoDBScenarioStore, record: ScenarioRecord) -> None:
        create(store, record)
        seen.created.append(record.scenario_id)

    def send(message: GenerationMessage) -> DispatchResult:
        seen.queued.append(message.scenario_id)
        return DispatchResult(queued=True, message_id=f"msg-{message.scenario_id}")

    monkeypatch.setattr(DynamoDBScenarioStore, "create", recording_create)
    monkeypatch.setattr(runtime, "generation_sender", lambda settings: send)
    monkeypatch.setattr(ratelimit, "count_metric", lambda name, **_: seen.metrics.append(name))
    return seen


def _new_client() -> str:
    """An address no other run has used: the counters live in a Redis other runs may share."""
    documentation_prefix = 0x20010DB8 << 96  # 2001:db8::/32, reserved for examples
    return str(ipaddress.IPv6Address(documentation_prefix | random.getrandbits(96)))


def _generate(client: Client, address: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = client.http.post(
        "/api/generate",
        body=b'{"scenarioType": "bakery"}',
        headers={"Content-Type": "application/json", "X-Forwarded-For": f"{address}, 10.0.0.1"},
    )
    return response.status_code, response.headers, json.loads(response.body)


def test_past_the_limit_a_client_gets_429_and_nothing_is_recorded_or_queued(
    app_client: Client, configure: Configure, recorded: Recorded
) -> None:
    # An hour-long window, so the burst does not straddle a turn of the window (the sliding
    # window would then discount part of it) and nothing needs to wait for it to pass.
    limit, window = 3, 3600
    configure(GENERATE_RATE_LIMIT=str(limit), GENERATE_RATE_WINDOW_SECONDS=str(window))
    greedy = _new_client()
    allowed = [_generate(app_client, greedy) for _ in range(limit)]
    assert [status for status, _, _ in allowed] == [202] * limit, allowed
    started = [body["scenarioId"] for _, _, body in allowed]

    status, headers, body = _generate(app_client, greedy)
    assert status == 429, body
    assert 1 <= int(headers["Retry-After"]) <= window
    assert set(body) == {"error", "retryAfter"}
    assert body["retryAfter"] == int(headers["Retry-After"])
    assert recorded.created == recorded.queued == started

    other_status, _, other = _generate(app_client, _new_client())
    assert other_status == 202, other
    assert recorded.created == [*started, other["scenarioId"]]
    assert recorded.metrics == []


def test_a_limit_of_zero_lets_every_request_through(
    app_client: Client, configure: Configure, recorded: Recorded
) -> None:
    configure(GENERATE_RATE_LIMIT="0")
    # One more than the default allows, so falling back to the default would show.
    count = Settings().generate_rate_limit + 1
    address = _new_client()
    statuses = [_generate(app_client, address)[0] for _ in range(count)]
    assert statuses == [202] * count
    assert len(recorded.queued) == count


def test_an_unreachable_redis_lets_generations_through_and_counts_it(
    app_client: Client, configure: Configure, recorded: Recorded
) -> None:
    # Failing open: a Redis outage must not stop every generation (see chalicelib.ratelimit).
    configure(GENERATE_RATE_LIMIT="1", UPSTASH_REDIS_REST_URL="http://127.0.0.1:9")
    address = _new_client()
    statuses = [_generate(app_client, address)[0] for _ in range(2)]
    assert statuses == [202, 202]
    assert len(recorded.created) == len(recorded.queued) == 2
    assert recorded.metrics == ["RateLimitUnavailable"] * 2
