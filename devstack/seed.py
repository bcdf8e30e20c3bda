"""Products for the local stack, so a checkout works right after `python -m devstack`.

Seeding uses conditional puts: a product that exists keeps its stock, so restarting the stack
against a DynamoDB that kept its data (or seeding twice) never resets what orders have taken.
Set a stock on purpose with `PUT /api/products/{productId}`.
"""

from __future__ import annotations

from chalicelib.checkout.models import Product
from chalicelib.checkout.store import OrderStore

PRODUCTS = (
    Product(product_id="espresso-beans-1kg", name="Espresso beans, 1 kg", price=2450, stock=50),
    Product(product_id="filter-papers-100", name="Filter papers (100)", price=550, stock=200),
    Product(product_id="ceramic-dripper", name="Ceramic dripper", price=3200, stock=20),
    Product(product_id="gooseneck-kettle", name="Gooseneck kettle", price=6900, stock=8),
    Product(product_id="hand-grinder", name="Hand grinder", price=8900, stock=3),
)


def seed_products(store: OrderStore, products: tuple[Product, ...] = PRODUCTS) -> list[str]:
    """Create each product that does not exist yet; the ids of those created."""
    return [product.product_id for product in products if store.add_product(product)]


def seed_local_products(endpoint_url: str, region: str, table: str) -> list[str]:
    """Seed the products into `table` of the local DynamoDB at `endpoint_url`."""
    from chalicelib.checkout.dynamodb_store import DynamoDBOrderStore
    from devstack.dynamodb import local_client

    return seed_products(DynamoDBOrderStore(local_client(endpoint_url, region), table))
