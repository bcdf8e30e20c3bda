"""What billing accepts: the send request body, the Idempotency-Key header, the queued message."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.billing.models import BillingMessage, IdempotencyKeyHeader, SendRequest
from chalicelib.billing.service import billing_message

VALID: dict[str, Any] = {
    "invoiceId": "INV-2024_001",
    "recipient": "ada@example.com",
    "amount": 123450,
    "currency": "EUR",
    "dueDate": "2025-07-01",
}


def _fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(part) for part in item["loc"]) for item in error.value.errors()}


def test_a_valid_body_is_read_with_typed_fields() -> None:
    request = SendRequest.model_validate({**VALID, "currency": "eur", "requestId": "r-1"})

    assert request.invoice_id == "INV-2024_001"
    assert request.amount == 123450
    assert request.currency == "EUR"
    assert request.due_date == date(2025, 7, 1)
    assert request.request_id == "r-1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("invoiceId", ""),
        ("invoiceId", "INV 1"),
        ("invoiceId", "INV.1"),
        ("invoiceId", "x" * 65),
        ("recipient", "not-an-email"),
        ("recipient", "ada@example.com\r\nBcc: eve@example.com"),
        ("recipient", "ada@localhost"),
        ("amount", 0),
        ("amount", -5),
        ("amount", 12.5),
        ("amount", "1000"),
        ("amount", True),
        ("amount", 10**12 + 1),
        ("currency", "EURO"),
        ("currency", "E1R"),
        ("currency", 978),
        ("dueDate", "2025-13-01"),
        ("dueDate", "01/07/2025"),
        ("dueDate", "2025-07-01T00:00:00"),
        ("dueDate", 1751328000),
        ("requestId", "has space"),
        ("requestId", "a:b"),
        ("requestId", ""),
    ],
)
def test_each_bad_field_is_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as error:
        SendRequest.model_validate({**VALID, field: value})

    assert _fields(error) == {field}


def test_missing_fields_and_unknown_fields_are_all_named() -> None:
    with pytest.raises(ValidationError) as error:
        SendRequest.model_validate({"amout": 5})

    assert _fields(error) == {"invoiceId", "recipient", "amount", "currency", "dueDate", "amout"}


def test_the_idempotency_key_header_is_optional_but_must_be_a_plain_token() -> None:
    assert IdempotencyKeyHeader.model_validate({"Idempotency-Key": None}).value is None
    assert IdempotencyKeyHeader.model_validate({"Idempotency-Key": "k-1"}).value == "k-1"
    with pytest.raises(ValidationError) as error:
        IdempotencyKeyHeader.model_validate({"Idempotency-Key": "k 1"})
    assert _fields(error) == {"Idempotency-Key"}


def test_the_send_request_id_is_the_body_s_then_the_header_s_then_a_fresh_one() -> None:
    request = SendRequest.model_validate(VALID)
    with_id = SendRequest.model_validate({**VALID, "requestId": "from-body"})

    assert billing_message("invoice", with_id, "from-header").request_id == "from-body"
    assert billing_message("invoice", request, "from-header").request_id == "from-header"
    assert billing_message("invoice", request, None, new_id=lambda: "fresh").request_id == "fresh"


def test_a_message_is_keyed_by_kind_invoice_and_request_id_and_survives_the_queue() -> None:
    request = SendRequest.model_validate({**VALID, "requestId": "r-1"})
    message = billing_message("reminder", request, None)

    assert message.effect_key == "billing:reminder:INV-2024_001:r-1"
    assert message.body() == {**VALID, "kind": "reminder", "requestId": "r-1"}
    assert BillingMessage.model_validate(message.body()) == message


def test_a_queued_message_needs_its_kind_and_request_id() -> None:
    with pytest.raises(ValidationError) as error:
        BillingMessage.model_validate({**VALID, "kind": "receipt"})

    assert _fields(error) == {"kind", "requestId"}
