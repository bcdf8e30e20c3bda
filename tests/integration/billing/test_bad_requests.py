"""Bad send requests get a 400 naming each wrong field (never a 500), and send nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.billing.conftest import BillingApi, invoice_body


def _fields(body: dict[str, Any]) -> set[str]:
    return {item["field"] for item in body["fields"]}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"amount": 0}, {"amount"}),
        ({"amount": 12.5}, {"amount"}),
        ({"amount": "100"}, {"amount"}),
        ({"currency": "EURO"}, {"currency"}),
        ({"dueDate": "tomorrow"}, {"dueDate"}),
        ({"recipient": "nobody"}, {"recipient"}),
        ({"invoiceId": "has spaces"}, {"invoiceId"}),
        ({"requestId": "no/slashes"}, {"requestId"}),
        ({"amount": -1, "currency": "", "surprise": 1}, {"amount", "currency", "surprise"}),
    ],
)
def test_each_wrong_field_is_named_and_nothing_is_sent(
    billing: BillingApi, overrides: dict[str, Any], fields: set[str]
) -> None:
    body = invoice_body(**overrides)
    before = billing.metrics()

    answer = billing.send("invoice", body)

    assert answer.status == 400, answer
    assert answer.body["error"] == "invalid request"
    assert _fields(answer.body) == fields
    assert all(item["reason"] for item in answer.body["fields"])
    assert billing.mails_to(body["recipient"]) == []
    assert billing.metrics() == before


def test_missing_fields_are_all_named(billing: BillingApi) -> None:
    answer = billing.send("reminder", {})

    assert answer.status == 400
    assert _fields(answer.body) == {"invoiceId", "recipient", "amount", "currency", "dueDate"}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{oops", "body is not valid JSON"),
        (b"", "invalid request"),
        (b"[1, 2]", "invalid request"),
        (b"\xff\xfe", "body is not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(
    billing: BillingApi, raw: bytes, error: str
) -> None:
    answer = billing.post("/api/invoices/send", raw)

    assert answer.status == 400, answer
    assert answer.body["error"] == error


def test_a_malformed_idempotency_key_header_is_a_400(billing: BillingApi) -> None:
    body = invoice_body()

    answer = billing.send("invoice", body, {"Idempotency-Key": "not a token!"})

    assert answer.status == 400
    assert _fields(answer.body) == {"Idempotency-Key"}
    assert billing.mails_to(body["recipient"]) == []


def test_an_oversized_body_is_a_413(billing: BillingApi) -> None:
    raw = json.dumps(invoice_body(padding="x" * 70_000)).encode()

    answer = billing.post("/api/invoices/send", raw)

    assert answer.status == 413
