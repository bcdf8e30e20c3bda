"""The routes QStash calls: only signed requests count, a redelivery sends nothing twice, an
unusable payload is dead-lettered at once, and a message QStash gives up on is counted dead."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from chalicelib.billing.runtime import FAILURE_CALLBACK_PATH
from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.outcome import NON_RETRYABLE_STATUS
from chalicelib.queue.publisher import QStashPublisher
from chalicelib.queue.qstash_client import qstash_client
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack, StackOptions
from tests.integration.billing.conftest import BillingApi, SetEnv, invoice_body
from tests.waiting import wait_until

INVOICE_CONSUMER = "/api/queue/send_invoice"


def _queued(kind: str = "invoice", **overrides: Any) -> dict[str, Any]:
    return {**invoice_body(requestId=uuid.uuid4().hex), "kind": kind, **overrides}


def _raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def test_a_forged_or_missing_signature_is_refused_and_sends_nothing(billing: BillingApi) -> None:
    body = _queued()

    forged = billing.deliver(INVOICE_CONSUMER, _raw(body), key="sig_notTheRealKey000000000000")
    unsigned = billing.post(INVOICE_CONSUMER, _raw(body))

    assert (forged.status, unsigned.status) == (401, 401)
    assert "signature rejected" in forged.body["error"]
    assert billing.mails_to(body["recipient"]) == []


def test_a_signature_for_another_route_is_refused(billing: BillingApi) -> None:
    body = _queued()
    url = get_settings().public_url("/api/queue/send_reminder")
    assert url is not None
    raw = _raw(body)
    signature = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=raw, now=time.time())

    answer = billing.post(INVOICE_CONSUMER, raw, {"Upstash-Signature": signature})

    assert answer.status == 401
    assert billing.mails_to(body["recipient"]) == []


def test_a_message_delivered_twice_sends_one_email_and_the_second_is_a_duplicate(
    billing: BillingApi,
) -> None:
    body = _queued()
    before = billing.metrics()

    first = billing.deliver(INVOICE_CONSUMER, _raw(body))
    second = billing.deliver(INVOICE_CONSUMER, _raw(body))

    assert (first.status, first.body["duplicate"]) == (200, False)
    assert (second.status, second.body["duplicate"]) == (200, True)
    assert len(billing.mails_to(body["recipient"])) == 1
    after = billing.metrics()
    assert (after["sent"] - before["sent"], after["duplicates"] - before["duplicates"]) == (1, 1)


def test_concurrent_deliveries_send_one_email(billing: BillingApi) -> None:
    body = _queued("reminder")
    raw = _raw(body)
    url = get_settings().public_url("/api/queue/send_reminder")
    assert url is not None

    def deliver(_: int) -> httpx.Response:
        # Through the stack's app server, which serves requests on threads, as QStash would.
        signature = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=raw, now=time.time())
        return httpx.post(url, content=raw, headers={"Upstash-Signature": signature}, timeout=30)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(deliver, range(4)))

    assert len(billing.mails_to(body["recipient"])) == 1
    fresh = [r for r in responses if r.status_code == 200 and r.json()["duplicate"] is False]
    assert len(fresh) == 1, [(r.status_code, r.text) for r in responses]
    for response in responses:
        busy = response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
        assert busy or response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (_raw({"kind": "invoice"}), "invalid request"),
        (_raw(_queued(amount=0)), "invalid request"),
        (_raw(_queued("reminder")), "a reminder message delivered to the invoice consumer"),
    ],
)
def test_an_unusable_payload_is_dead_lettered_at_once(
    billing: BillingApi, raw: bytes, reason: str
) -> None:
    answer = billing.deliver(INVOICE_CONSUMER, raw)

    assert answer.status == NON_RETRYABLE_STATUS
    assert answer.headers["upstash-nonretryable-error"] == "true"
    assert answer.body["error"] == reason


@pytest.fixture
def duplicating_qstash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second QStash emulator that delivers every message twice, the copy after the original
    (seed 0 decides that), so the copy always meets a completed send."""
    options = StackOptions.on_free_ports(
        tmp_path_factory.mktemp("unused-mail"), duplicate_rate=1.0, seed=0, time_scale=0.001
    )
    stack = LocalStack(options).start(only=["qstash"])
    yield stack.app_environment()["QSTASH_URL"]
    stack.stop()


def test_qstash_delivering_a_message_twice_sends_one_email(
    billing: BillingApi, app_env: SetEnv, duplicating_qstash: str
) -> None:
    app_env("QSTASH_URL", duplicating_qstash)
    body = invoice_body()
    before = billing.metrics()

    answer = billing.send("invoice", body)

    assert answer.status == 202, answer
    wait_until(
        lambda: billing.metrics()["duplicates"] > before["duplicates"],
        timeout=20,
        what="the duplicate delivery",
    )
    assert len(billing.mails_to(body["recipient"])) == 1
    after = billing.metrics()
    assert (after["sent"] - before["sent"], after["duplicates"] - before["duplicates"]) == (1, 1)


def test_a_message_qstash_gives_up_on_is_counted_dead(
    billing: BillingApi, closed_port: int
) -> None:
    settings = get_settings()
    before = billing.metrics()
    # A consumer nobody answers at: the only attempt fails, then QStash calls the callback.
    QStashPublisher(qstash_client(settings)).publish(
        OutgoingMessage(
            url=f"http://127.0.0.1:{closed_port}/",
            body=_queued(),
            deduplication_id=uuid.uuid4().hex,
            failure_callback=settings.public_url(FAILURE_CALLBACK_PATH),
            retries=0,
        )
    )

    wait_until(
        lambda: billing.metrics()["dead"] > before["dead"], timeout=20, what="the dead count"
    )
    assert billing.metrics()["dead"] == before["dead"] + 1


def test_a_forged_or_unreadable_failure_callback_counts_nothing(billing: BillingApi) -> None:
    before = billing.metrics()
    callback = {"status": 500, "sourceMessageId": "m", "sourceBody": "e30=", "retried": 3}

    forged = billing.post(FAILURE_CALLBACK_PATH, _raw(callback), {"Upstash-Signature": "forged"})
    unreadable = billing.deliver(FAILURE_CALLBACK_PATH, _raw(callback))  # `{}` is no message
    not_base64 = billing.deliver(FAILURE_CALLBACK_PATH, _raw({**callback, "sourceBody": "%%"}))

    assert forged.status == 401
    assert (unreadable.status, not_base64.status) == (NON_RETRYABLE_STATUS, NON_RETRYABLE_STATUS)
    assert billing.metrics()["dead"] == before["dead"]
