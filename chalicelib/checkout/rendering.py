"""The customer's emails about an order, as plain text."""

from __future__ import annotations

from pydantic import Field

from chalicelib.checkout.models import CamelModel, Order
from chalicelib.events.payloads import CheckoutItem, EmailNotification
from chalicelib.mail.messages import OutgoingEmail


class OrderEmailData(CamelModel):
    """What an order email says: the `data` of its `notification.email` event."""

    order_id: str
    customer_name: str
    items: list[CheckoutItem] = Field(min_length=1)
    total: int
    currency: str
    reason: str | None = None


def email_data(order: Order) -> dict[str, object]:
    """The `data` of the notification about `order`."""
    return OrderEmailData(
        order_id=order.order_id,
        customer_name=order.customer.name,
        items=order.items,
        total=order.total,
        currency=order.currency,
        reason=order.reason,
    ).model_dump(mode="json", by_alias=True)


def money(minor_units: int, currency: str) -> str:
    """An amount in minor units as `12.50 USD`."""
    return f"{minor_units // 100}.{minor_units % 100:02d} {currency}"


def render_email(notification: EmailNotification, *, message_id: str) -> OutgoingEmail:
    """The email for `notification`; raises pydantic's `ValidationError` for unusable data."""
    data = OrderEmailData.model_validate(notification.data)
    lines = [
        f"  {item.quantity} x {item.product_id} at {money(item.price, data.currency)}"
        f" = {money(item.price * item.quantity, data.currency)}"
        for item in data.items
    ]
    if notification.template == "order_confirmation":
        subject = f"Order {data.order_id} confirmed"
        opening = "thank you for your order. It is confirmed and on its way:"
        closing = f"Total: {money(data.total, data.currency)}"
    else:
        subject = f"Order {data.order_id} could not be placed"
        opening = "we could not place your order, so nothing was reserved for it:"
        closing = f"Total: {money(data.total, data.currency)}\nReason: {data.reason or 'not given'}"
    text = "\n".join(
        [
            f"Hello {data.customer_name},",
            "",
            opening,
            "",
            f"Order: {data.order_id}",
            *lines,
            "",
            closing,
            "",
        ]
    )
    return OutgoingEmail(to=(notification.to,), subject=subject, text=text, message_id=message_id)
