"""Seeding the local stack's products never resets a stock."""

from __future__ import annotations

from devstack.seed import PRODUCTS, seed_products
from tests.fakes.order_store import InMemoryOrderStore


def test_seeding_creates_missing_products_and_keeps_existing_stock() -> None:
    store = InMemoryOrderStore()
    store.put_product(PRODUCTS[0].model_copy(update={"stock": 1}))
    created = seed_products(store)
    assert created == [product.product_id for product in PRODUCTS[1:]]
    assert seed_products(store) == []
    assert store.get_product(PRODUCTS[0].product_id) == PRODUCTS[0].model_copy(update={"stock": 1})
    assert store.get_product(PRODUCTS[1].product_id) == PRODUCTS[1]
