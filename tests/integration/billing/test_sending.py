"""Sending through the app and the local stack: queued when the flag is on and QStash takes the
message, inline otherwise, and one email per send request id either way."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.billing.conftest import BillingApi, SetEnv, invoice_body


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """How much each counter grew (fallbacks by reason, as `fallback:<reason>`)."""
    flat = {}
    for name in ("queued", "sent", "duplicates", "dead"):
        flat[name] = after[name] - before[name]
    for reason, count in after["fallbacks"].items():
        flat[f"fallback:{reason}"] = count - before["fallbacks"][reason]
    return {name: grown for name, grown in flat.items() if grown}


def test_with_the_flag_on_the_invoice_is_queued_and_qstash_delivers_one_email(
    billing: BillingApi,
) -> None:
    body = invoice_body(requestId="req-queued")
    before = billing.metrics()

    answer = billing.send("invoice", body)

    assert answer.status == 202, answer
    assert answer.body["queued"] is True
    assert answer.body["fallback"] is None
    assert answer.body["requestId"] == "req-queued"
    billing.wait_delivered(answer.body["messageId"])
    [mail] = billing.mails_to(body["recipient"])
    assert mail.subject == f"Invoice {body['invoiceId']}: 1,299.00 EUR due 2025-07-01"
    assert "Amount due: 1,299.00 EUR" in mail.text
    assert _delta(before, billing.metrics()) == {"queued": 1, "sent": 1}


def test_a_queued_reminder_is_worded_as_a_reminder(billing: BillingApi) -> None:
    body = invoice_body()

    answer = billing.send("reminder", body)

    assert answer.status == 202, answer
    billing.wait_delivered(answer.body["messageId"])
    [mail] = billing.mails_to(body["recipient"])
    assert mail.subject == f"Reminder: invoice {body['invoiceId']} is due on 2025-07-01"


def test_with_the_flag_off_the_email_is_sent_inline(billing: BillingApi, app_env: SetEnv) -> None:
    app_env("ENABLE_ASYNC_QUEUE", "false")
    body = invoice_body()
    before = billing.metrics()

    answer = billing.send("invoice", body)

    assert answer.status == 200, answer
    assert (answer.body["queued"], answer.body["fallback"]) == (False, "disabled")
    assert len(billing.mails_to(body["recipient"])) == 1
    assert _delta(before, billing.metrics()) == {"fallback:disabled": 1, "sent": 1}


def test_when_qstash_is_down_the_email_is_sent_inline(
    billing: BillingApi, app_env: SetEnv, closed_port: int
) -> None:
    app_env("QSTASH_URL", f"http://127.0.0.1:{closed_port}")
    body = invoice_body()
    before = billing.metrics()

    answer = billing.send("invoice", body)

    assert answer.status == 200, answer
    assert (answer.body["queued"], answer.body["fallback"]) == (False, "publish_failed")
    assert len(billing.mails_to(body["recipient"])) == 1
    assert _delta(before, billing.metrics()) == {"fallback:publish_failed": 1, "sent": 1}


def test_without_a_qstash_token_the_email_is_sent_inline(
    billing: BillingApi, app_env: SetEnv
) -> None:
    app_env("QSTASH_TOKEN", None)
    body = invoice_body()

    answer = billing.send("reminder", body)

    assert answer.status == 200, answer
    assert (answer.body["queued"], answer.body["fallback"]) == (False, "not_configured")
    assert len(billing.mails_to(body["recipient"])) == 1


def test_the_same_request_id_sent_twice_through_qstash_is_one_email(billing: BillingApi) -> None:
    body = invoice_body(requestId="twice")

    first = billing.send("invoice", body)
    second = billing.send("invoice", body)

    assert (first.status, second.status) == (202, 202)
    # QStash recognises the deduplication id and answers with the message it already has.
    assert second.body["messageId"] == first.body["messageId"]
    billing.wait_delivered(first.body["messageId"])
    assert len(billing.mails_to(body["recipient"])) == 1


def test_the_idempotency_key_header_makes_a_retried_inline_request_one_email(
    billing: BillingApi, app_env: SetEnv
) -> None:
    app_env("ENABLE_ASYNC_QUEUE", "false")
    body = invoice_body()

    first = billing.send("invoice", body, {"Idempotency-Key": "retry-me"})
    second = billing.send("invoice", body, {"Idempotency-Key": "retry-me"})
    other = billing.send("invoice", body, {"Idempotency-Key": "another-send"})

    assert (first.body["duplicate"], second.body["duplicate"]) == (False, True)
    assert second.body["requestId"] == "retry-me"
    assert other.body["duplicate"] is False
    assert len(billing.mails_to(body["recipient"])) == 2


def test_without_any_request_id_each_request_is_a_new_send(
    billing: BillingApi, app_env: SetEnv
) -> None:
    app_env("ENABLE_ASYNC_QUEUE", "false")
    body = invoice_body()

    first, second = billing.send("invoice", body), billing.send("invoice", body)

    assert first.body["requestId"] != second.body["requestId"]
    assert len(billing.mails_to(body["recipient"])) == 2


def test_an_smtp_failure_inline_is_a_502_and_the_same_request_id_can_be_retried(
    billing: BillingApi, app_env: SetEnv, closed_port: int
) -> None:
    app_env("ENABLE_ASYNC_QUEUE", "false")
    body = invoice_body(requestId="smtp-down")
    app_env("SMTP_PORT", str(closed_port))

    failed = billing.send("invoice", body)

    assert failed.status == 502, failed
    assert "mail server did not accept the email" in failed.body["error"]
    assert failed.body["requestId"] == "smtp-down"
    assert billing.mails_to(body["recipient"]) == []

    app_env("SMTP_PORT", billing.stack.app_environment()["SMTP_PORT"])
    retried = billing.send("invoice", body)

    assert (retried.status, retried.body["duplicate"]) == (200, False)
    assert len(billing.mails_to(body["recipient"])) == 1


def test_an_inline_send_then_a_late_queued_delivery_of_it_is_one_email(
    billing: BillingApi, app_env: SetEnv
) -> None:
    # What an ambiguous publish leads to: QStash took the message, the app did not learn it and
    # sent inline, then QStash delivers.
    app_env("ENABLE_ASYNC_QUEUE", "false")
    body = invoice_body(requestId="ambiguous")
    assert billing.send("invoice", body).status == 200
    queued = {**body, "kind": "invoice"}

    late = billing.deliver("/api/queue/send_invoice", json.dumps(queued).encode())

    assert (late.status, late.body["duplicate"]) == (200, True)
    assert len(billing.mails_to(body["recipient"])) == 1


def test_the_metrics_report_the_fallback_rate_from_the_counters(
    billing: BillingApi, app_env: SetEnv
) -> None:
    queued = billing.send("invoice", invoice_body())
    billing.wait_delivered(queued.body["messageId"])
    app_env("ENABLE_ASYNC_QUEUE", "false")
    billing.send("invoice", invoice_body())

    metrics = billing.metrics()

    assert metrics["queued"] >= 1
    assert metrics["fallbacks"]["disabled"] >= 1
    assert metrics["fallbackTotal"] == sum(metrics["fallbacks"].values())
    requests = metrics["queued"] + metrics["fallbackTotal"]
    assert metrics["fallbackRate"] == metrics["fallbackTotal"] / requests
