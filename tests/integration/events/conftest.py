"""The event bus through the in-process local stack: a scripted consumer for `audit.log` (and a
listener for `deadletter.recorded`) swapped in for the test, every other type handled as in
production, and helpers to deliver signed bodies and call the admin routes."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
from chalice.test import Client

import chalicelib.events.subscribers as subscribers
from chalicelib.events.consumers import EventConsumers, EventHandler, PermanentEventError
from chalicelib.events.envelope import EventEnvelope
from chalicelib.events.payloads import AuditLog, DeadLetterRecorded
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack


class AuditScript:
    """Handles `audit.log` as each event's details ask: fail its first `failTimes` deliveries,
    fail permanently while its entity is poisoned, hold for `holdMs`; then record the effect."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deliveries: Counter[str] = Counter()
        self.effects: list[str] = []
        self.poisoned: set[str] = set()
        self.announcements: list[DeadLetterRecorded] = []

    def audit(self, payload: AuditLog, event: EventEnvelope) -> dict[str, Any]:
        with self._lock:
            self.deliveries[event.event_id] += 1
            delivery = self.deliveries[event.event_id]
        if payload.entity_id in self.poisoned:
            raise PermanentEventError(f"entity {payload.entity_id} is poisoned")
        if delivery <= int(payload.details.get("failTimes", 0)):
            raise RuntimeError(f"scripted failure {delivery}")
        time.sleep(float(payload.details.get("holdMs", 0)) / 1000)
        with self._lock:
            self.effects.append(event.event_id)
        return {"delivery": delivery}

    def announced(self, payload: DeadLetterRecorded, event: EventEnvelope) -> None:
        with self._lock:
            self.announcements.append(payload)


class ScriptedConsumers(EventConsumers):
    """The test's handlers first, then the production registry's."""

    def __init__(self, production: EventConsumers, script: AuditScript) -> None:
        super().__init__()
        self._production = production
        self.on("audit.log")(script.audit)
        self.on("deadletter.recorded")(script.announced)

    def handler_for(self, event_type: str) -> EventHandler | None:
        return super().handler_for(event_type) or self._production.handler_for(event_type)


@pytest.fixture
def script(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> AuditScript:
    """The scripted consumer, used by the app's routes (they run in this process) for the test."""
    audit = AuditScript()
    registry = ScriptedConsumers(subscribers.load_subscribers(), audit)
    monkeypatch.setattr(subscribers, "load_subscribers", lambda: registry)
    get_settings.cache_clear()
    return audit


class EventsApi:
    """Signed deliveries and admin calls through Chalice's test client."""

    def __init__(self, client: Client, stack: LocalStack) -> None:
        env = stack.app_environment()
        self.client = client
        self.base_url = env["PUBLIC_BASE_URL"]
        self.admin = {"Authorization": f"Bearer {env['ADMIN_TOKEN']}"}

    def deliver(
        self,
        path: str,
        body: bytes,
        *,
        key: str = DEV_CURRENT_SIGNING_KEY,
        signed_for: str | None = None,
    ) -> Any:
        """POST `body` to `path`, signed as QStash signs it (for `signed_for`, default `path`)."""
        url = self.base_url + (signed_for or path)
        signature = sign_delivery(key=key, url=url, body=body, now=time.time())
        return self.client.http.post(
            path,
            body=body,
            headers={"Upstash-Signature": signature, "Content-Type": "application/json"},
        )

    def dead_letters(self, query: str = "", headers: dict[str, str] | None = None) -> Any:
        """GET the dead-letter listing (as the admin unless `headers` say otherwise)."""
        return self.client.http.get(
            f"/api/deadletters{query}", headers=self.admin if headers is None else headers
        )

    def find_dead_letter(self, event_id: str) -> dict[str, Any] | None:
        """The dead letter of `event_id` on the listing's first page, if there."""
        response = self.dead_letters("?limit=200")
        assert response.status_code == 200, response.body
        for record in json.loads(response.body)["deadLetters"]:
            if record["event"]["eventId"] == event_id:
                return dict(record)
        return None

    def replay(self, dead_letter_id: str, headers: dict[str, str] | None = None) -> Any:
        """POST the replay of a dead letter."""
        return self.client.http.post(
            f"/api/deadletters/{dead_letter_id}/replay",
            headers=self.admin if headers is None else headers,
        )


@pytest.fixture
def api(app_client: Client, local_stack: LocalStack) -> EventsApi:
    return EventsApi(app_client, local_stack)
