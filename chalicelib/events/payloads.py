"""The payload of each event type: one pydantic model per type, camelCase on the wire."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# A plain shape check: the mail server is the judge of deliverability.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Identifier = Annotated[str, Field(min_length=1, max_length=128)]
# Money in minor units. DynamoDB numbers hold 38 digits; bounds far below that keep any price,
# and any total of an order's lines, storable (an unbounded one fails inside the transaction).
MAX_PRICE = 10**12
MAX_TOTAL = 10**18
Price = Annotated[int, Field(ge=0, le=MAX_PRICE)]
Total = Annotated[int, Field(ge=0, le=MAX_TOTAL)]


class EventPayload(BaseModel):
    """Base of every payload: camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CheckoutItem(EventPayload):
    """One line of an order; `price` in minor units (cents)."""

    product_id: Identifier
    quantity: int = Field(gt=0, le=1000)
    price: Price


class Customer(EventPayload):
    """Who is buying."""

    customer_id: Identifier
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=200)


class CheckoutCommand(EventPayload):
    """`command.checkout`: a customer asked to buy these items."""

    order_id: Identifier
    customer: Customer
    items: list[CheckoutItem] = Field(min_length=1, max_length=100)
    payment_id: Identifier
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class OrderCreated(EventPayload):
    """`order.created`: stock was reserved and the order recorded."""

    order_id: Identifier
    customer: Customer
    items: list[CheckoutItem] = Field(min_length=1, max_length=100)
    total: Total
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class EmailNotification(EventPayload):
    """`notification.email`: send one templated email."""

    order_id: str | None = None
    to: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    template: Literal["order_confirmation", "order_rejected"]
    data: dict[str, Any] = Field(default_factory=dict)


class StockUpdated(EventPayload):
    """`inventory.stock.updated`: a product's stock changed by `delta` to `stock`."""

    product_id: Identifier
    delta: int
    stock: int
    order_id: str | None = None


class LowStock(EventPayload):
    """`inventory.low_stock`: a product's stock fell to or below the threshold."""

    product_id: Identifier
    stock: int
    threshold: int


class AuditLog(EventPayload):
    """`audit.log`: something worth keeping a record of happened."""

    action: str = Field(min_length=1, max_length=100)
    entity: str = Field(min_length=1, max_length=100)
    entity_id: Identifier
    details: dict[str, Any] = Field(default_factory=dict)


class DeadLetterRecorded(EventPayload):
    """`deadletter.recorded`: QStash gave up on an event and it was kept as a dead letter."""

    dead_letter_id: Identifier
    event_id: Identifier
    event_type: str = Field(min_length=1, max_length=100)
    last_status: int | None = None
