"""Helpers for driving escrows through the app, the job queue and the local stack's services."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.escrow.partner_webhooks import verify_partner_signature
from chalicelib.escrow.planning import (
    AUDIT_LOG_CREATED,
    EMAIL_JOB_TYPES,
    STRIPE_CAPTURE_PAYMENT,
    STRIPE_REFUND_PAYMENT,
    WEBHOOK_ESCROW_STATUS_CHANGED,
)
from chalicelib.jobs.catalogue import load_job_handlers
from chalicelib.jobs.runtime import job_runtime
from chalicelib.settings import get_settings
from devstack.smtp import MailStore, StoredMail
from devstack.stack import LocalStack
from tests.waiting import wait_until

ESCROW_JOB_TYPES = [
    *EMAIL_JOB_TYPES,
    STRIPE_CAPTURE_PAYMENT,
    STRIPE_REFUND_PAYMENT,
    WEBHOOK_ESCROW_STATUS_CHANGED,
    AUDIT_LOG_CREATED,
]


@dataclass
class Answer:
    """An app response, reduced to what the tests read."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class EscrowApi:
    """The escrow routes through Chalice's test client; the stack's job queue and mail sink."""

    def __init__(self, stack: LocalStack, client: Client) -> None:
        self.client = client
        self.mail = MailStore(stack.options.mail_dir)

    def _answer(self, response: Any) -> Answer:
        body = json.loads(response.body) if response.body else {}
        return Answer(response.status_code, body, dict(response.headers))

    def post(self, path: str, body: dict[str, Any] | bytes | None = None) -> Answer:
        raw = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        return self._answer(
            self.client.http.post(
                path, body=raw or b"", headers={"Content-Type": "application/json"}
            )
        )

    def get(self, path: str) -> Answer:
        return self._answer(self.client.http.get(path))

    def create(self, **changes: Any) -> dict[str, Any]:
        """A new funded escrow (201), with `changes` to the default body."""
        body = {
            "amount": 129_900,
            "currency": "EUR",
            "buyerEmail": "buyer@example.com",
            "sellerEmail": "seller@example.com",
            "paymentId": "pi_3Pintegration",
            **changes,
        }
        answer = self.post("/api/escrow", body)
        assert answer.status == 201, answer
        return answer.body

    def act(self, escrow_id: str, action: str, body: dict[str, Any] | None = None) -> Answer:
        """POST release, refund, dispute or dispute/resolve."""
        return self.post(f"/api/escrow/{escrow_id}/{action}", body)

    def show(self, escrow_id: str) -> dict[str, Any]:
        answer = self.get(f"/api/escrow/{escrow_id}")
        assert answer.status == 200, answer
        return answer.body

    def run_side_effects(self, escrow_id: str, timeout: float = 30) -> dict[str, Any]:
        """Process escrow jobs until every side effect of the escrow has completed.

        The stack may drain the queue by itself too (QStash is asked to after an enqueue);
        whichever runs a job, the job runs once.
        """
        runtime = job_runtime(get_settings(), load_job_handlers())

        def done() -> dict[str, Any] | None:
            runtime.process_batch(types=ESCROW_JOB_TYPES, limit=50)
            escrow = self.show(escrow_id)
            states = {effect["state"] for effect in escrow["sideEffects"]}
            assert "dead" not in states, escrow["sideEffects"]
            return escrow if states == {"completed"} else None

        return wait_until(done, timeout=timeout, what=f"escrow {escrow_id}'s side effects")

    def mails_about(self, escrow_id: str) -> list[StoredMail]:
        return [mail for mail in self.mail.list() if escrow_id in mail.text]


@pytest.fixture
def api(local_stack: LocalStack, app_client: Client) -> EscrowApi:
    return EscrowApi(local_stack, app_client)


@dataclass
class Delivery:
    """One webhook the partner received, and whether its signature verified."""

    headers: dict[str, str]
    body: bytes
    verified: bool

    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class PartnerServer(ThreadingHTTPServer):
    """A partner's webhook endpoint: verifies each delivery as a partner would, 401 if forged."""

    secret: str
    deliveries: list[Delivery]


class _PartnerHandler(BaseHTTPRequestHandler):
    server: PartnerServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        verified = verify_partner_signature(
            self.server.secret,
            self.headers.get("Longhaul-Timestamp", ""),
            body,
            self.headers.get("Longhaul-Signature", ""),
            now=time.time(),
        )
        self.server.deliveries.append(Delivery(dict(self.headers.items()), body, verified))
        self.send_response(204 if verified else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@dataclass
class Partner:
    """The running partner endpoint."""

    url: str
    server: PartnerServer
    deliveries: list[Delivery] = field(default_factory=list)


@pytest.fixture
def partner(local_stack: LocalStack) -> Iterator[Partner]:
    secret = get_settings().webhook_signing_secret
    assert secret is not None, "the local stage sets WEBHOOK_SIGNING_SECRET"
    server = PartnerServer(("127.0.0.1", 0), _PartnerHandler)
    server.secret = secret.get_secret_value()
    server.deliveries = []
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield Partner(
        f"http://127.0.0.1:{server.server_address[1]}/webhooks/longhaul", server, server.deliveries
    )
    server.shutdown()
    server.server_close()
