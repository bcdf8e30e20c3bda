"""What a checkout body must be, and how an email renders."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.checkout.models import MAX_PRODUCTS_PER_ORDER, CheckoutRequest
from chalicelib.checkout.rendering import money, render_email
from chalicelib.events.payloads import MAX_PRICE, MAX_TOTAL, EmailNotification


def _body(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "customer": {"customerId": "c", "email": "a@example.com", "name": "A"},
        "items": items,
        "paymentId": "p",
    }


def _fields(body: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        CheckoutRequest.model_validate(body)
    return {".".join(map(str, error["loc"])) for error in caught.value.errors()}


def test_each_wrong_field_is_named() -> None:
    body = _body([{"productId": "", "quantity": 0, "price": -1}])
    body["customer"]["email"] = "not-an-address"
    body["currency"] = "usd"
    assert _fields(body) == {
        "customer.email",
        "items.0.productId",
        "items.0.quantity",
        "items.0.price",
        "currency",
    }


def test_an_order_fits_one_transaction() -> None:
    lines = [{"productId": f"p{n}", "quantity": 1, "price": 1} for n in range(50)]
    assert MAX_PRODUCTS_PER_ORDER == 49
    CheckoutRequest.model_validate(_body(lines[:49]))
    with pytest.raises(ValidationError, match="at most 49 different products"):
        CheckoutRequest.model_validate(_body(lines))


def test_one_product_at_two_prices_is_refused() -> None:
    lines = [
        {"productId": "p", "quantity": 1, "price": 1},
        {"productId": "p", "quantity": 1, "price": 2},
    ]
    with pytest.raises(ValidationError, match="listed at two prices"):
        CheckoutRequest.model_validate(_body(lines))


def test_money_is_shown_in_major_units() -> None:
    assert (money(0, "USD"), money(5, "EUR"), money(123456, "USD")) == (
        "0.00 USD",
        "0.05 EUR",
        "1234.56 USD",
    )


def test_unusable_email_data_is_a_validation_error() -> None:
    notification = EmailNotification(to="a@example.com", template="order_confirmation", data={})
    with pytest.raises(ValidationError):
        render_email(notification, message_id="m")


def test_a_price_beyond_the_bound_is_refused_and_the_largest_order_stays_storable() -> None:
    line = {"productId": "gold", "quantity": 1000, "price": MAX_PRICE}
    assert CheckoutRequest.model_validate(_body([line])).items[0].price == MAX_PRICE
    assert _fields(_body([{**line, "price": MAX_PRICE + 1}])) == {"items.0.price"}
    assert _fields(_body([{**line, "price": 10**40}])) == {"items.0.price"}
    # The largest total an order can reach fits the bound on totals (DynamoDB holds 38 digits).
    assert MAX_PRICE * 1000 * MAX_PRODUCTS_PER_ORDER <= MAX_TOTAL < 10**38
