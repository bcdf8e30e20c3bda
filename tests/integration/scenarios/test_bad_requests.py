"""A client's mistake is a clear 4xx that changes nothing, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

UNKNOWN_ID = "0" * 32


def _post(client: Client, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    response = client.http.post(path, body=body, headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.body or b"{}")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{}", "scenarioType"),
        (b'{"scenarioType": "castle"}', "scenarioType"),
        (b'{"scenarioType": "bakery", "seed": -1}', "seed"),
        (b'{"scenarioType": "bakery", "seed": "7"}', "seed"),
        (b'{"scenarioType": "bakery", "colour": "red"}', "colour"),
        (b"[1, 2]", "body"),
    ],
)
def test_an_invalid_generate_request_names_the_field(
    app_client: Client, body: bytes, field: str
) -> None:
    status, answer = _post(app_client, "/api/generate", body)
    assert status == 400, answer
    assert answer["error"] == "invalid request"
    assert field in [item["field"] for item in answer["fields"]], answer


def test_a_body_that_is_not_json_is_400(app_client: Client) -> None:
    status, answer = _post(app_client, "/api/generate", b"{scenarioType: bakery")
    assert status == 400
    assert answer["error"] == "body is not valid JSON"


def test_an_oversize_body_is_413(app_client: Client) -> None:
    padding = "x" * (70 * 1024)
    status, answer = _post(
        app_client, "/api/generate", json.dumps({"scenarioType": "bakery", "p": padding}).encode()
    )
    assert status == 413, answer


@pytest.mark.parametrize(
    "path",
    [
        f"/api/status/{UNKNOWN_ID}",
        "/api/status/not-an-id",
        f"/api/scenarios/{UNKNOWN_ID}",
        f"/api/scenarios/{UNKNOWN_ID}/events",
    ],
)
def test_an_unknown_scenario_is_404(app_client: Client, path: str) -> None:
    response = app_client.http.get(path)
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": "no such scenario"}


def test_retrying_an_unknown_scenario_is_404(app_client: Client) -> None:
    status, _ = _post(app_client, f"/api/scenarios/{UNKNOWN_ID}/retry", b"")
    assert status == 404


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=ten", "cursor=../etc"])
def test_a_bad_events_query_is_400(app_client: Client, query: str) -> None:
    response = app_client.http.get(f"/api/scenarios/{UNKNOWN_ID}/events?{query}")
    assert response.status_code == 400, response.body


def test_a_scenario_that_has_not_failed_cannot_be_retried(app_client: Client) -> None:
    _, started = _post(app_client, "/api/generate", b'{"scenarioType": "bakery", "seed": 1}')
    status, answer = _post(app_client, f"/api/scenarios/{started['scenarioId']}/retry", b"")
    assert status == 409
    assert "only a failed scenario can be retried" in answer["error"]
