"""What checkout keeps and accepts: orders, their lines, products and audit records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from chalicelib.events.payloads import (
    CheckoutCommand,
    CheckoutItem,
    Customer,
    Identifier,
    Price,
    Total,
)

OrderStatus = Literal["pending", "confirmed", "rejected", "emailed"]
ORDER_ID_PATTERN = r"^[0-9a-f]{32}$"
# One transaction holds at most 100 writes: the order, one line and one stock update per product.
MAX_PRODUCTS_PER_ORDER = 49


class CamelModel(BaseModel):
    """camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def order_lines(items: list[CheckoutItem]) -> list[CheckoutItem]:
    """The items with one line per product (quantities added up), in first-seen order.

    A transaction may write each item once, so two lines for one product become one.
    """
    merged: dict[str, CheckoutItem] = {}
    for item in items:
        seen = merged.get(item.product_id)
        if seen is not None and seen.price != item.price:
            raise ValueError(f"product {item.product_id} is listed at two prices")
        quantity = item.quantity + (seen.quantity if seen else 0)
        merged[item.product_id] = item.model_copy(update={"quantity": quantity})
    return list(merged.values())


def order_total(items: list[CheckoutItem]) -> int:
    """The sum of price times quantity over the lines, in minor units."""
    return sum(item.price * item.quantity for item in items)


class CheckoutRequest(CamelModel):
    """The body of `POST /api/checkout`."""

    customer: Customer
    items: list[CheckoutItem] = Field(min_length=1, max_length=100)
    payment_id: Identifier
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @model_validator(mode="after")
    def _fits_one_transaction(self) -> CheckoutRequest:
        lines = order_lines(self.items)
        if len(lines) > MAX_PRODUCTS_PER_ORDER:
            raise ValueError(f"an order holds at most {MAX_PRODUCTS_PER_ORDER} different products")
        return self

    def command(self, order_id: str) -> CheckoutCommand:
        """The command that asks for this checkout under `order_id`, one line per product."""
        return CheckoutCommand(
            order_id=order_id,
            customer=self.customer,
            items=order_lines(self.items),
            payment_id=self.payment_id,
            currency=self.currency,
        )


class Order(CamelModel):
    """An order as the store keeps it and `GET /api/orders/{id}` shows it."""

    order_id: str
    status: OrderStatus
    reason: str | None = None
    customer: Customer
    items: list[CheckoutItem]
    total: Total
    currency: str
    payment_id: str
    correlation_id: str
    accepted_at: datetime
    decided_at: datetime | None = None
    emailed_at: datetime | None = None

    @classmethod
    def accepted(cls, command: CheckoutCommand, *, correlation_id: str, now: datetime) -> Order:
        """The pending order a command was accepted for."""
        return cls(
            order_id=command.order_id,
            status="pending",
            customer=command.customer,
            items=command.items,
            total=order_total(command.items),
            currency=command.currency,
            payment_id=command.payment_id,
            correlation_id=correlation_id,
            accepted_at=now,
        )

    def view(self) -> dict[str, Any]:
        """The order as JSON for the API."""
        return self.model_dump(mode="json", by_alias=True)


class Product(CamelModel):
    """A product and its stock."""

    product_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    price: Price
    stock: int = Field(ge=0)


class ProductUpdate(CamelModel):
    """The body of `PUT /api/products/{productId}`."""

    name: str = Field(min_length=1, max_length=200)
    price: Price
    stock: int = Field(ge=0, le=1_000_000_000)


class AuditRecord(CamelModel):
    """One `audit.log` event as kept: keyed by the event id, so a re-delivery overwrites it."""

    event_id: str
    action: str
    entity: str
    entity_id: str
    details: dict[str, Any] = Field(default_factory=dict)
    correlation_id: str
    recorded_at: datetime
