"""Checkout through the local stack: the API, QStash's deliveries to the topic routes,
DynamoDB's transaction, the SMTP sink and the audit trail; and a stack that delivers every
message twice, which must still give one order, one email and one decrement per checkout."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from chalice.test import Client

from chalicelib.checkout.runtime import order_store
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import CheckoutCommand
from chalicelib.settings import get_settings
from devstack.ports import free_port
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.smtp import MailStore, StoredMail
from devstack.stack import LocalStack, StackOptions
from tests.waiting import wait_until

ADMIN = {"Authorization": "Bearer longhaul-local-admin-token"}
JSON = {"Content-Type": "application/json"}


class Shop:
    """The checkout routes as a client sees them."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def product(self, stock: int, price: int = 1250) -> str:
        product_id = f"p-{uuid.uuid4().hex[:12]}"
        response = self.client.http.put(
            f"/api/products/{product_id}",
            headers={**ADMIN, **JSON},
            body=json.dumps({"name": "Test product", "price": price, "stock": stock}),
        )
        assert response.status_code == 200, response.body
        return product_id

    def stock(self, product_id: str) -> int:
        response = self.client.http.get(f"/api/products/{product_id}")
        assert response.status_code == 200, response.body
        return int(response.json_body["stock"])

    def checkout(self, *lines: tuple[str, int, int]) -> dict[str, Any]:
        response = self.client.http.post(
            "/api/checkout",
            headers=JSON,
            body=json.dumps(
                {
                    "customer": {"customerId": "c-1", "email": "ada@example.com", "name": "Ada"},
                    "items": [
                        {"productId": p, "quantity": q, "price": price} for p, q, price in lines
                    ],
                    "paymentId": "pay-1",
                }
            ),
        )
        assert response.status_code == 202, response.body
        return dict(response.json_body)

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.client.http.get(f"/api/orders/{order_id}")
        assert response.status_code == 200, response.body
        return dict(response.json_body)

    def settled(self, order_id: str, timeout: float = 30) -> dict[str, Any]:
        """The order once it is emailed (confirmed) or rejected and emailed."""

        def emailed() -> dict[str, Any] | None:
            order = self.order(order_id)
            return order if order["emailedAt"] is not None else None

        return wait_until(emailed, timeout=timeout, what=f"order {order_id} to be emailed")


def _audit_of(order_id: str) -> list[Any]:
    return order_store(get_settings()).audit_records("order", order_id)


def _mails_about(store: MailStore, order_id: str) -> list[StoredMail]:
    return [mail for mail in store.list() if order_id in mail.subject]


@pytest.fixture
def shop(app_client: Client) -> Shop:
    return Shop(app_client)


def test_a_checkout_ends_in_an_email_and_an_audit_record(
    shop: Shop, local_stack: LocalStack
) -> None:
    beans, kettle = shop.product(stock=10), shop.product(stock=6, price=6900)
    accepted = shop.checkout((beans, 2, 1250), (kettle, 2, 6900))
    order_id = accepted["orderId"]
    assert accepted["statusUrl"] == f"/api/orders/{order_id}"
    assert accepted["correlationId"]
    assert shop.order(order_id)["status"] in ("pending", "confirmed", "emailed")

    order = shop.settled(order_id)
    assert (order["status"], order["reason"], order["total"]) == ("emailed", None, 16300)
    assert order["correlationId"] == accepted["correlationId"]
    assert [(i["productId"], i["quantity"]) for i in order["items"]] == [(beans, 2), (kettle, 2)]
    assert (shop.stock(beans), shop.stock(kettle)) == (8, 4)

    [mail] = _mails_about(MailStore(local_stack.options.mail_dir), order_id)
    assert mail.rcpt_tos == ["ada@example.com"]
    assert f"Order: {order_id}" in mail.text
    assert f"2 x {beans} at 12.50 USD = 25.00 USD" in mail.text
    assert "Total: 163.00 USD" in mail.text
    [audit] = wait_until(lambda: _audit_of(order_id), timeout=30, what="the audit record")
    assert audit.action == "email.sent"
    assert audit.details["template"] == "order_confirmation"
    assert audit.correlation_id == accepted["correlationId"]


def test_a_shortage_rejects_the_order_with_its_reason_and_leaves_stock_alone(
    shop: Shop, local_stack: LocalStack
) -> None:
    plenty, scarce = shop.product(stock=10), shop.product(stock=1)
    order_id = shop.checkout((plenty, 1, 1250), (scarce, 3, 1250))["orderId"]
    order = shop.settled(order_id)
    assert order["status"] == "rejected"
    assert order["reason"] == f"insufficient stock for {scarce} (1 in stock)"
    assert (shop.stock(plenty), shop.stock(scarce)) == (10, 1)
    [mail] = _mails_about(MailStore(local_stack.options.mail_dir), order_id)
    assert "could not be placed" in mail.subject
    assert f"Reason: insufficient stock for {scarce} (1 in stock)" in mail.text


def test_bad_bodies_are_400_with_field_reasons_and_place_nothing(shop: Shop) -> None:
    product = shop.product(stock=5)
    body = {
        "customer": {"customerId": "c", "email": "nope", "name": "A"},
        "items": [{"productId": product, "quantity": 0, "price": 1}],
        "paymentId": "p",
        "extra": True,
    }
    response = shop.client.http.post("/api/checkout", headers=JSON, body=json.dumps(body))
    assert response.status_code == 400
    fields = {entry["field"] for entry in response.json_body["fields"]}
    assert fields == {"customer.email", "items.0.quantity", "extra"}
    for raw in ("{", "[]", json.dumps({"items": []})):
        assert shop.client.http.post("/api/checkout", headers=JSON, body=raw).status_code == 400
    assert shop.stock(product) == 5


def test_a_price_beyond_what_can_be_stored_is_400_and_places_nothing(shop: Shop) -> None:
    product = shop.product(stock=5)
    for price in (10**12 + 1, 10**40):
        body = {
            "customer": {"customerId": "c", "email": "a@example.com", "name": "A"},
            "items": [{"productId": product, "quantity": 1, "price": price}],
            "paymentId": "p",
        }
        response = shop.client.http.post("/api/checkout", headers=JSON, body=json.dumps(body))
        assert response.status_code == 400, response.body
        assert [entry["field"] for entry in response.json_body["fields"]] == ["items.0.price"]
    assert shop.stock(product) == 5


def test_the_stack_seeds_products(shop: Shop) -> None:
    response = shop.client.http.get("/api/products/hand-grinder")
    assert response.status_code == 200
    assert response.json_body["name"] == "Hand grinder"


def test_unknown_orders_and_products_are_404(shop: Shop) -> None:
    for order_id in (uuid.uuid4().hex, "not-an-order", "A" * 32):
        assert shop.client.http.get(f"/api/orders/{order_id}").status_code == 404
    assert shop.client.http.get(f"/api/products/p-{uuid.uuid4().hex}").status_code == 404


def test_products_want_the_admin_token_and_a_valid_body(shop: Shop) -> None:
    product_id = f"p-{uuid.uuid4().hex[:12]}"
    body = json.dumps({"name": "P", "price": 1, "stock": 1})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = shop.client.http.put(
            f"/api/products/{product_id}", headers={**JSON, **headers}, body=body
        )
        assert response.status_code == 401
    assert shop.client.http.get(f"/api/products/{product_id}").status_code == 404
    response = shop.client.http.put(
        f"/api/products/{product_id}",
        headers={**ADMIN, **JSON},
        body=json.dumps({"name": "", "price": -1, "stock": 1}),
    )
    assert response.status_code == 400
    assert {f["field"] for f in response.json_body["fields"]} == {"name", "price"}


def test_a_checkout_qstash_cannot_take_is_503_and_leaves_no_order(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = shop.product(stock=5)
    monkeypatch.setenv("QSTASH_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    response = shop.client.http.post(
        "/api/checkout",
        headers=JSON,
        body=json.dumps(
            {
                "customer": {"customerId": "c", "email": "a@example.com", "name": "A"},
                "items": [{"productId": product, "quantity": 1, "price": 1}],
                "paymentId": "p",
            }
        ),
    )
    assert response.status_code == 503
    assert "could not be queued" in response.json_body["error"]
    order_id = response.json_body["orderId"]
    monkeypatch.undo()
    get_settings.cache_clear()
    assert shop.client.http.get(f"/api/orders/{order_id}").status_code == 404
    assert shop.stock(product) == 5


def _deliver(url: str, envelope: EventEnvelope) -> int:
    """POST `envelope` to `url` signed as QStash would; the status answered."""
    raw = json.dumps(envelope.wire()).encode()
    signature = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=raw, now=time.time())
    response = httpx.post(
        url,
        content=raw,
        headers={"Upstash-Signature": signature, **JSON},
        timeout=30,
    )
    return response.status_code


def test_a_command_replayed_under_new_event_ids_changes_nothing(
    shop: Shop, local_stack: LocalStack
) -> None:
    """Past the idempotency record (a new event id), the order's own guard still holds."""
    product = shop.product(stock=20)
    order_id = shop.checkout((product, 3, 100))["orderId"]
    order = shop.settled(order_id)
    wait_until(lambda: _audit_of(order_id), timeout=30, what="the audit record")
    command = CheckoutCommand.model_validate(
        {key: order[key] for key in ("orderId", "customer", "items", "paymentId", "currency")}
    )
    url = get_settings().public_url("/api/webhooks/commands")
    assert url is not None
    replays = [
        new_event("command.checkout", command, source="api", correlation_id="replay")
        for _ in range(3)
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda e: _deliver(url, e), [*replays, *replays]))
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses
    assert shop.stock(product) == 17
    assert shop.order(order_id) == order
    assert len(_mails_about(MailStore(local_stack.options.mail_dir), order_id)) == 1
    assert len(_audit_of(order_id)) == 1


@pytest.fixture
def duplicating_stack(local_stack: LocalStack, tmp_path: Path) -> Iterator[LocalStack]:
    """A second stack whose QStash delivers every message three times (each extra copy racing
    the real attempt or following it).

    Starting it points this process's environment at it; stopping it gives back the one it
    found (the session stack's), whatever happens in between.
    """
    found = dict(os.environ)
    options = StackOptions.on_free_ports(
        tmp_path / "mail",
        time_scale=0.001,
        duplicate_rate=1.0,
        duplicate_copies=2,
        seed=20260301,
    )
    stack = LocalStack(options)
    try:
        stack.start()
        get_settings.cache_clear()
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(found)
        get_settings.cache_clear()


def test_duplicate_deliveries_give_one_order_one_email_one_decrement_per_checkout(
    duplicating_stack: LocalStack, shop: Shop
) -> None:
    product = shop.product(stock=100)
    quantities = [1, 2, 3, 4, 5]
    order_ids = [shop.checkout((product, q, 100))["orderId"] for q in quantities]
    orders = [shop.settled(order_id, timeout=60) for order_id in order_ids]
    assert [order["status"] for order in orders] == ["emailed"] * 5
    assert shop.stock(product) == 100 - sum(quantities)
    mails = MailStore(duplicating_stack.options.mail_dir)
    for order_id in order_ids:
        audit = wait_until(partial(_audit_of, order_id), timeout=30, what="audit")
        assert len(audit) == 1
        assert len(_mails_about(mails, order_id)) == 1
    assert len(mails.list()) == 5
    assert shop.stock(product) == 100 - sum(quantities)
