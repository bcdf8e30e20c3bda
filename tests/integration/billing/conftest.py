"""Helpers for driving billing through the app and the in-process local stack."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from chalice.test import Client

from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_TOKEN
from devstack.qstash.signing import sign_delivery
from devstack.smtp import MailStore, StoredMail
from devstack.stack import LocalStack
from tests.waiting import wait_until

SetEnv = Callable[[str, str | None], None]


@dataclass
class Answer:
    """An app response, reduced to what the tests read."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]  # names in lower case


class BillingApi:
    """The billing routes through Chalice's test client, and the stack's QStash and mail sink."""

    def __init__(self, stack: LocalStack, client: Client) -> None:
        self.stack = stack
        self.client = client
        self.mail = MailStore(stack.options.mail_dir)

    @staticmethod
    def _answer(response: Any) -> Answer:
        body = json.loads(response.body) if response.body else {}
        return Answer(
            response.status_code, body, {k.lower(): v for k, v in response.headers.items()}
        )

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> Answer:
        return self._answer(
            self.client.http.post(
                path, body=body, headers={"Content-Type": "application/json", **(headers or {})}
            )
        )

    def send(
        self, kind: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Answer:
        """POST /api/invoices/send or /api/reminders/send."""
        return self.post(f"/api/{kind}s/send", json.dumps(body).encode(), headers)

    def deliver(self, path: str, raw: bytes, *, key: str = DEV_CURRENT_SIGNING_KEY) -> Answer:
        """POST `raw` to one of the app's QStash routes, signed as QStash would (with `key`)."""
        url = get_settings().public_url(path)
        assert url is not None
        signature = sign_delivery(key=key, url=url, body=raw, now=time.time())
        return self.post(path, raw, {"Upstash-Signature": signature})

    def metrics(self) -> dict[str, Any]:
        answer = self._answer(self.client.http.get("/api/queue/metrics"))
        assert answer.status == 200, answer
        return answer.body

    def mails_to(self, recipient: str) -> list[StoredMail]:
        return [mail for mail in self.mail.list() if recipient in mail.rcpt_tos]

    def wait_delivered(self, message_id: str) -> None:
        """Wait until QStash has had a 2xx from the consumer for `message_id`."""
        qstash = os.environ["QSTASH_URL"]

        def delivered() -> bool:
            response = httpx.get(
                f"{qstash}/v2/events",
                params={"messageId": message_id, "state": "DELIVERED"},
                headers={"Authorization": f"Bearer {DEV_TOKEN}"},
            )
            response.raise_for_status()
            return bool(response.json()["events"])

        wait_until(delivered, timeout=20, what=f"QStash to deliver {message_id}")


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """A valid send request to a recipient no other test uses."""
    return {
        "invoiceId": f"INV-{uuid.uuid4().hex[:8]}",
        "recipient": f"{uuid.uuid4().hex[:12]}@example.com",
        "amount": 129900,
        "currency": "EUR",
        "dueDate": "2025-07-01",
        **overrides,
    }


@pytest.fixture
def billing(local_stack: LocalStack, app_client: Client) -> BillingApi:
    return BillingApi(local_stack, app_client)


@pytest.fixture
def app_env(local_stack: LocalStack) -> Iterator[SetEnv]:
    """Change (or with None, remove) one of the app's environment variables for this test."""
    saved: dict[str, str | None] = {}

    def set_env(name: str, value: str | None) -> None:
        saved.setdefault(name, os.environ.get(name))
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
        get_settings.cache_clear()

    yield set_env
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings.cache_clear()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: every connection to it is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])
