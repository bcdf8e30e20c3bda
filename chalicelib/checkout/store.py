"""How orders, products and audit records are kept: the interface and its narrow errors.

An order lives under one partition: the acceptance (written when the API takes the checkout),
and, once the commands consumer has decided, the order itself and one item per line. Deciding is
one transaction that requires the acceptance to exist and the order not to, so an order is
decided once whatever the number of deliveries, and never after the API withdrew it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from chalicelib.checkout.models import AuditRecord, Order, Product


class OrderExistsError(Exception):
    """The order (or its acceptance, when accepting) was already written."""


class NotAcceptedError(Exception):
    """No acceptance exists for the order: it was never taken, or was withdrawn."""


class UnstorableOrderError(Exception):
    """The database refuses the order's records for good (a value it cannot hold): no retry of
    the same write can succeed."""

    def __init__(self, order_id: str, reason: str) -> None:
        super().__init__(f"order {order_id} cannot be stored: {reason}")
        self.order_id = order_id


class OutOfStockError(Exception):
    """Some products cannot cover the order; `available` maps each known one to its stock."""

    def __init__(self, product_ids: list[str], available: Mapping[str, int]) -> None:
        super().__init__(f"insufficient stock: {', '.join(product_ids)}")
        self.product_ids = product_ids
        self.available = dict(available)

    def reason(self) -> str:
        """A sentence for the customer naming each product that is short."""
        parts = [
            f"{product_id} ({self.available[product_id]} in stock)"
            if product_id in self.available
            else f"{product_id} (not sold here)"
            for product_id in self.product_ids
        ]
        return "insufficient stock for " + ", ".join(parts)


class OrderStore(Protocol):
    """Persistence of orders, products and audit records."""

    def accept(self, order: Order) -> None:
        """Record a pending order; raises `OrderExistsError` if the id was accepted before."""
        ...

    def withdraw(self, order_id: str) -> Order | None:
        """Take an acceptance back (its command could not be queued).

        Returns None once withdrawn (the order can never be decided now), or the order when it
        was decided before the withdrawal (a command QStash took after all).
        """
        ...

    def place(self, order: Order) -> list[Product]:
        """Write the confirmed order and its lines and take each line's quantity from stock,
        all in one transaction; returns the products as they are afterwards.

        Raises `OrderExistsError` if the order was decided already, `NotAcceptedError` if it
        has no acceptance, `OutOfStockError` if a product is unknown or short (nothing written),
        `UnstorableOrderError` if the database can never take the order's records.
        """
        ...

    def reject(self, order: Order) -> None:
        """Write the rejected order and its lines in one transaction (stock untouched).

        Raises `OrderExistsError` if it was decided already, `NotAcceptedError` if not accepted,
        `UnstorableOrderError` if the database can never take the order's records.
        """
        ...

    def mark_emailed(self, order_id: str, *, now: datetime) -> bool:
        """Note that the customer was emailed (a confirmed order becomes `emailed`); False if
        there is no decided order. The first time is kept."""
        ...

    def get(self, order_id: str) -> Order | None:
        """The decided order with its lines, else the pending acceptance, else None."""
        ...

    def put_product(self, product: Product) -> None:
        """Create or replace a product (its stock is set, not adjusted)."""
        ...

    def add_product(self, product: Product) -> bool:
        """Create a product unless it exists; True if created (an existing stock is kept)."""
        ...

    def get_product(self, product_id: str) -> Product | None:
        """The product, or None."""
        ...

    def record_audit(self, record: AuditRecord) -> None:
        """Keep an audit record under its event id (writing it again overwrites it)."""
        ...

    def audit_records(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """The entity's audit records in event id order."""
        ...
