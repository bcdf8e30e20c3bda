"""One contract, two order stores: the in-memory fake must behave like DynamoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib.checkout.models import AuditRecord, Order, Product
from chalicelib.checkout.runtime import order_store
from chalicelib.checkout.store import (
    NotAcceptedError,
    OrderExistsError,
    OrderStore,
    OutOfStockError,
)
from chalicelib.events.payloads import CheckoutCommand, CheckoutItem, Customer
from chalicelib.settings import get_settings
from tests.fakes.order_store import InMemoryOrderStore

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LATER = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(params=["in-memory", "dynamodb"])
def contract_store(request: pytest.FixtureRequest) -> Iterator[OrderStore]:
    if request.param == "in-memory":
        yield InMemoryOrderStore()
    else:
        request.getfixturevalue("local_stack")
        get_settings.cache_clear()
        yield order_store(get_settings())


@pytest.fixture
def products(contract_store: OrderStore) -> tuple[str, str]:
    """Two fresh products: 5 and 1 in stock."""
    first, second = (f"p-{uuid.uuid4().hex[:12]}" for _ in range(2))
    contract_store.put_product(Product(product_id=first, name="First", price=100, stock=5))
    contract_store.put_product(Product(product_id=second, name="Second", price=900, stock=1))
    return first, second


def _pending(*lines: tuple[str, int]) -> Order:
    command = CheckoutCommand(
        order_id=uuid.uuid4().hex,
        customer=Customer(customer_id="c", email="c@example.com", name="C"),
        items=[CheckoutItem(product_id=p, quantity=q, price=100) for p, q in lines],
        payment_id="pay",
    )
    return Order.accepted(command, correlation_id="corr", now=NOW)


def _decided(order: Order, status: str, reason: str | None = None) -> Order:
    return order.model_copy(update={"status": status, "decided_at": LATER, "reason": reason})


def _stock(store: OrderStore, product_id: str) -> int | None:
    product = store.get_product(product_id)
    return None if product is None else product.stock


def test_an_accepted_order_reads_back_pending_and_is_accepted_once(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    order = _pending((products[0], 2))
    assert contract_store.get(order.order_id) is None
    contract_store.accept(order)
    assert contract_store.get(order.order_id) == order
    with pytest.raises(OrderExistsError):
        contract_store.accept(order)


def test_placing_writes_the_order_and_takes_the_stock_once(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    order = _pending((products[0], 2), (products[1], 1))
    contract_store.accept(order)
    placed = _decided(order, "confirmed")
    after = contract_store.place(placed)
    assert [(p.product_id, p.stock) for p in after] == [(products[0], 3), (products[1], 0)]
    assert contract_store.get(order.order_id) == placed
    with pytest.raises(OrderExistsError):
        contract_store.place(placed)
    with pytest.raises(OrderExistsError):
        contract_store.reject(_decided(order, "rejected", "late"))
    assert (_stock(contract_store, products[0]), _stock(contract_store, products[1])) == (3, 0)


def test_a_shortage_writes_nothing_and_names_every_short_product(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    unknown = f"p-{uuid.uuid4().hex[:12]}"
    order = _pending((products[0], 5), (products[1], 2), (unknown, 1))
    contract_store.accept(order)
    with pytest.raises(OutOfStockError) as short:
        contract_store.place(_decided(order, "confirmed"))
    assert short.value.product_ids == [products[1], unknown]
    assert short.value.available == {products[1]: 1}
    assert (_stock(contract_store, products[0]), _stock(contract_store, products[1])) == (5, 1)
    assert contract_store.get(order.order_id) == order  # still pending
    rejected = _decided(order, "rejected", short.value.reason())
    contract_store.reject(rejected)
    assert contract_store.get(order.order_id) == rejected
    with pytest.raises(OrderExistsError):
        contract_store.place(_decided(order, "confirmed"))


def test_an_order_not_accepted_or_withdrawn_is_never_decided(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    never = _pending((products[0], 1))
    with pytest.raises(NotAcceptedError):
        contract_store.place(_decided(never, "confirmed"))
    withdrawn = _pending((products[0], 1))
    contract_store.accept(withdrawn)
    assert contract_store.withdraw(withdrawn.order_id) is None
    assert contract_store.get(withdrawn.order_id) is None
    with pytest.raises(NotAcceptedError):
        contract_store.place(_decided(withdrawn, "confirmed"))
    with pytest.raises(NotAcceptedError):
        contract_store.reject(_decided(withdrawn, "rejected", "r"))
    assert _stock(contract_store, products[0]) == 5


def test_withdrawing_a_decided_order_keeps_it(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    order = _pending((products[0], 1))
    contract_store.accept(order)
    placed = _decided(order, "confirmed")
    contract_store.place(placed)
    assert contract_store.withdraw(order.order_id) == placed
    assert contract_store.get(order.order_id) == placed


def test_emailing_marks_a_confirmed_order_and_times_a_rejected_one_first_time_kept(
    contract_store: OrderStore, products: tuple[str, str]
) -> None:
    assert contract_store.mark_emailed(uuid.uuid4().hex, now=NOW) is False
    confirmed, rejected = _pending((products[0], 1)), _pending((products[1], 9))
    for order in (confirmed, rejected):
        contract_store.accept(order)
    assert contract_store.mark_emailed(confirmed.order_id, now=NOW) is False  # still pending
    contract_store.place(_decided(confirmed, "confirmed"))
    contract_store.reject(_decided(rejected, "rejected", "short"))
    for order in (confirmed, rejected):
        assert contract_store.mark_emailed(order.order_id, now=NOW) is True
        assert contract_store.mark_emailed(order.order_id, now=LATER) is True
    first, second = contract_store.get(confirmed.order_id), contract_store.get(rejected.order_id)
    assert first is not None
    assert second is not None
    assert (first.status, first.emailed_at) == ("emailed", NOW)
    assert (second.status, second.emailed_at, second.reason) == ("rejected", NOW, "short")


def test_adding_a_product_keeps_an_existing_stock(contract_store: OrderStore) -> None:
    product = Product(product_id=f"p-{uuid.uuid4().hex[:12]}", name="P", price=1, stock=3)
    assert contract_store.add_product(product) is True
    assert contract_store.add_product(product.model_copy(update={"stock": 99})) is False
    assert contract_store.get_product(product.product_id) == product
    contract_store.put_product(product.model_copy(update={"stock": 7, "name": "Q"}))
    assert contract_store.get_product(product.product_id) == product.model_copy(
        update={"stock": 7, "name": "Q"}
    )
    assert contract_store.get_product(f"p-{uuid.uuid4().hex}") is None


def test_audit_records_are_kept_once_per_event_in_event_id_order(
    contract_store: OrderStore,
) -> None:
    entity_id = uuid.uuid4().hex
    records = [
        AuditRecord(
            event_id=event_id,
            action="email.sent",
            entity="order",
            entity_id=entity_id,
            details={"n": n},
            correlation_id="corr",
            recorded_at=NOW,
        )
        for n, event_id in enumerate(["b.audit", "a.audit"])
    ]
    for record in [*records, records[0]]:
        contract_store.record_audit(record)
    assert contract_store.audit_records("order", entity_id) == [records[1], records[0]]
    assert contract_store.audit_records("order", uuid.uuid4().hex) == []
