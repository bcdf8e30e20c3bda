"""GET /api/health against the real local stack, and with a backend taken away."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.health import clear_health_cache


@pytest.fixture(autouse=True)
def fresh_health() -> Iterator[None]:
    """Each test changes the configuration, so none may see a report cached by another."""
    clear_health_cache()
    yield
    clear_health_cache()


def test_every_backend_of_the_local_stack_is_reachable(app_client: Client) -> None:
    response = app_client.http.get("/api/health")
    body = json.loads(response.body)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name for name, b in body["backends"].items() if b["reachable"]} == {
        "dynamodb",
        "redis",
        "qstash",
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_backend_that_does_not_answer_gives_503(
    app_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.settings import get_settings

    # A port nothing listens on: the Redis REST endpoint is "down".
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    response = app_client.http.get("/api/health")
    body = json.loads(response.body)
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["backends"]["redis"]["reachable"] is False
    assert body["backends"]["dynamodb"]["reachable"] is True


def test_without_a_qstash_token_the_app_is_healthy_in_inline_mode(
    app_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.settings import get_settings

    monkeypatch.delenv("QSTASH_TOKEN")
    get_settings.cache_clear()
    body = json.loads(app_client.http.get("/api/health").body)
    assert body["status"] == "ok"
    assert body["backends"]["qstash"] == {
        "configured": False,
        "required": False,
        "reachable": None,
        "latency_ms": None,
        "error": None,
    }


def test_a_recent_report_is_reused_until_the_cache_is_cleared(
    app_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.settings import get_settings

    assert app_client.http.get("/api/health").status_code == 200
    # Redis goes "down", but within the window the endpoint answers from its last check.
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    assert app_client.http.get("/api/health").status_code == 200
    clear_health_cache()
    assert app_client.http.get("/api/health").status_code == 503


def test_the_correlation_id_is_echoed_or_made(app_client: Client) -> None:
    given = app_client.http.get("/api/health", headers={"X-Correlation-Id": "abc-123"})
    assert given.headers["X-Correlation-Id"] == "abc-123"
    # An id that could corrupt a log line is replaced, not echoed.
    unsafe = app_client.http.get("/api/health", headers={"X-Correlation-Id": "a\nb"})
    assert unsafe.headers["X-Correlation-Id"] not in ("a\nb", "")
