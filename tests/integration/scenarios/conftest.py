"""Helpers for driving scenarios through the in-process local stack over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalicelib.scenarios.runtime import scenario_store
from chalicelib.scenarios.store import ScenarioStore
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack
from tests.waiting import wait_until


class ScenarioApi:
    """The app's scenario routes and the worker's Function URL, as a client sees them."""

    def __init__(self, stack: LocalStack, http: httpx.Client) -> None:
        env = stack.app_environment()
        self.app_url = env["PUBLIC_BASE_URL"]
        self.worker_url = env["WORKER_URL"]
        self.http = http

    def generate(self, scenario_type: str, seed: int = 11) -> str:
        response = self.http.post(
            f"{self.app_url}/api/generate", json={"scenarioType": scenario_type, "seed": seed}
        )
        assert response.status_code == 202, response.text
        return str(response.json()["scenarioId"])

    def status(self, scenario_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.app_url}/api/status/{scenario_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def watch(self, scenario_id: str, timeout: float = 120) -> list[dict[str, Any]]:
        """Every status seen while polling until the scenario is completed or failed."""
        seen: list[dict[str, Any]] = []

        def finished() -> bool:
            seen.append(self.status(scenario_id))
            return seen[-1]["status"] in ("completed", "failed")

        wait_until(finished, timeout=timeout, what=f"scenario {scenario_id} to finish")
        return seen

    def deliver(
        self, body: dict[str, Any], *, key: str = DEV_CURRENT_SIGNING_KEY
    ) -> httpx.Response:
        """POST `body` to the worker signed as QStash would (with `key`)."""
        raw = json.dumps(body).encode()
        signature = sign_delivery(key=key, url=self.worker_url, body=raw, now=time.time())
        return self.http.post(
            self.worker_url,
            content=raw,
            headers={"Upstash-Signature": signature, "Content-Type": "application/json"},
            timeout=120,
        )


@pytest.fixture
def api(local_stack: LocalStack) -> Iterator[ScenarioApi]:
    with httpx.Client(timeout=30) as http:
        yield ScenarioApi(local_stack, http)


@pytest.fixture
def store(local_stack: LocalStack) -> ScenarioStore:
    get_settings.cache_clear()
    return scenario_store(get_settings())
