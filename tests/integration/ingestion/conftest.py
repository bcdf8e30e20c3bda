"""Sending Meta's webhooks and QStash's deliveries to the app running on the local stack."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.ingestion.payload import conversation_id
from chalicelib.ingestion.runtime import CONSUMER_PATH, conversation_store
from chalicelib.ingestion.store import ConversationStore
from chalicelib.ingestion.verification import payload_signature
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack

WEBHOOK = "/api/webhooks/instagram"


class Instagram:
    """Meta's side (signed webhook POSTs) and QStash's side (signed consumer deliveries)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        # Fresh participants per test: the table and QStash's deduplication outlive a test.
        self.user = str(uuid.uuid4().int)[:16]
        self.business = str(uuid.uuid4().int)[:17]
        self.conversation = conversation_id(self.user, self.business)

    def mid(self, label: str) -> str:
        """A message id unique to this test run."""
        return f"{label}-{uuid.uuid4().hex}"

    def post(self, body: Any, *, signature: str | None = "sign") -> Any:
        """POST `body` (JSON, or raw bytes) to the webhook, signed with the app secret unless
        `signature` is None (no header) or another literal header value."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            secret = get_settings().instagram_app_secret
            assert secret is not None
            headers["X-Hub-Signature-256"] = payload_signature(secret.get_secret_value(), raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.http.post(WEBHOOK, headers=headers, body=raw)

    def deliver(self, body: Any, *, key: str = DEV_CURRENT_SIGNING_KEY) -> Any:
        """POST `body` to the consumer as QStash would, signed with `key`."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        url = get_settings().public_url(CONSUMER_PATH)
        assert url is not None
        signature = sign_delivery(key=key, url=url, body=raw, now=time.time())
        return self.client.http.post(
            CONSUMER_PATH,
            headers={"Upstash-Signature": signature, "Content-Type": "application/json"},
            body=raw,
        )


@pytest.fixture
def instagram(app_client: Client) -> Instagram:
    return Instagram(app_client)


@pytest.fixture
def store(local_stack: LocalStack) -> ConversationStore:
    get_settings.cache_clear()
    return conversation_store(get_settings())
