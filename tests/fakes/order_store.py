"""`InMemoryOrderStore`: the `OrderStore` protocol in memory, with the same conditions (and the
same errors when one fails) as `DynamoDBOrderStore`. Everything is copied in and out, as a round
trip through a database would."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from chalicelib.checkout.models import AuditRecord, Order, Product
from chalicelib.checkout.store import NotAcceptedError, OrderExistsError, OutOfStockError


class InMemoryOrderStore:
    """A faithful in-memory `OrderStore`; `calls` counts each protocol method."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._accepted: dict[str, Order] = {}
        self._decided: dict[str, Order] = {}
        self._products: dict[str, Product] = {}
        self._audit: dict[tuple[str, str], dict[str, AuditRecord]] = {}

    def accept(self, order: Order) -> None:
        """Record the pending order once."""
        with self._lock:
            self.calls["accept"] += 1
            if order.order_id in self._accepted:
                raise OrderExistsError(order.order_id)
            self._accepted[order.order_id] = order.model_copy(deep=True)

    def withdraw(self, order_id: str) -> Order | None:
        """Drop the acceptance; the decided order if there is one."""
        with self._lock:
            self.calls["withdraw"] += 1
            self._accepted.pop(order_id, None)
        return self._read(order_id)

    def _decide(self, order: Order) -> None:
        """The conditions every decision checks, in DynamoDB's order of precedence."""
        if order.order_id in self._decided:
            raise OrderExistsError(order.order_id)
        if order.order_id not in self._accepted:
            raise NotAcceptedError(order.order_id)

    def place(self, order: Order) -> list[Product]:
        """Order, lines and every stock decrement, all or nothing."""
        with self._lock:
            self.calls["place"] += 1
            self._decide(order)
            short = [
                line.product_id
                for line in order.items
                if line.product_id not in self._products
                or self._products[line.product_id].stock < line.quantity
            ]
            if short:
                raise OutOfStockError(
                    short,
                    {pid: self._products[pid].stock for pid in short if pid in self._products},
                )
            for line in order.items:
                product = self._products[line.product_id]
                self._products[line.product_id] = product.model_copy(
                    update={"stock": product.stock - line.quantity}
                )
            self._decided[order.order_id] = order.model_copy(update={"emailed_at": None})
            return [self._products[line.product_id].model_copy() for line in order.items]

    def reject(self, order: Order) -> None:
        """The rejected order and its lines."""
        with self._lock:
            self.calls["reject"] += 1
            self._decide(order)
            self._decided[order.order_id] = order.model_copy(update={"emailed_at": None})

    def mark_emailed(self, order_id: str, *, now: datetime) -> bool:
        """`emailed` for a confirmed order, the first email's time for any decided one."""
        with self._lock:
            self.calls["mark_emailed"] += 1
            order = self._decided.get(order_id)
            if order is None:
                return False
            status = "emailed" if order.status in ("confirmed", "emailed") else order.status
            self._decided[order_id] = order.model_copy(
                update={"status": status, "emailed_at": order.emailed_at or now}
            )
            return True

    def _read(self, order_id: str) -> Order | None:
        with self._lock:
            order = self._decided.get(order_id) or self._accepted.get(order_id)
            return None if order is None else order.model_copy(deep=True)

    def get(self, order_id: str) -> Order | None:
        """The decided order, else the pending acceptance, else None."""
        self.calls["get"] += 1
        return self._read(order_id)

    def put_product(self, product: Product) -> None:
        """Create or replace the product."""
        with self._lock:
            self.calls["put_product"] += 1
            self._products[product.product_id] = product.model_copy()

    def add_product(self, product: Product) -> bool:
        """Create the product unless it exists."""
        with self._lock:
            self.calls["add_product"] += 1
            if product.product_id in self._products:
                return False
            self._products[product.product_id] = product.model_copy()
            return True

    def get_product(self, product_id: str) -> Product | None:
        """The product, or None."""
        with self._lock:
            self.calls["get_product"] += 1
            product = self._products.get(product_id)
            return None if product is None else product.model_copy()

    def record_audit(self, record: AuditRecord) -> None:
        """Keep the record under its event id."""
        with self._lock:
            self.calls["record_audit"] += 1
            records = self._audit.setdefault((record.entity, record.entity_id), {})
            records[record.event_id] = record.model_copy(deep=True)

    def audit_records(self, entity: str, entity_id: str) -> list[AuditRecord]:
        """The entity's records in event id order."""
        with self._lock:
            self.calls["audit_records"] += 1
            records = self._audit.get((entity, entity_id), {})
            return [records[event_id].model_copy(deep=True) for event_id in sorted(records)]
