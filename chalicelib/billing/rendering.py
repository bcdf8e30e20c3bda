"""The invoice and reminder emails, as plain text."""

from __future__ import annotations

from chalicelib.billing.models import BillingMessage
from chalicelib.mail.messages import OutgoingEmail

# Digits after the decimal point where ISO 4217 says it is not 2.
_MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def format_amount(amount: int, currency: str) -> str:
    """`amount` minor units of `currency` as people read it: `format_amount(123450, "EUR")` is
    `1,234.50 EUR`, `format_amount(5000, "JPY")` is `5,000 JPY`."""
    digits = _MINOR_DIGITS.get(currency, 2)
    major, minor = divmod(amount, 10**digits)
    fraction = f".{minor:0{digits}d}" if digits else ""
    return f"{major:,}{fraction} {currency}"


def render_email(message: BillingMessage) -> OutgoingEmail:
    """The email for `message`: an invoice, or a reminder that the invoice is due."""
    amount = format_amount(message.amount, message.currency)
    due = message.due_date.isoformat()
    if message.kind == "invoice":
        subject = f"Invoice {message.invoice_id}: {amount} due {due}"
        opening = f"Please find below invoice {message.invoice_id}."
        closing = "Thank you for your business."
    else:
        subject = f"Reminder: invoice {message.invoice_id} is due on {due}"
        opening = (
            f"This is a friendly reminder that invoice {message.invoice_id} is due for payment."
        )
        closing = "If you have already paid, please ignore this reminder."
    text = (
        f"Hello,\n\n{opening}\n\n"
        f"Invoice: {message.invoice_id}\n"
        f"Amount due: {amount}\n"
        f"Due date: {due}\n\n"
        f"{closing}\n"
    )
    return OutgoingEmail(
        to=(message.recipient,),
        subject=subject,
        text=text,
        # The ids hold no `.`, so this Message-ID is unique per effect key and valid in a header.
        message_id=message.effect_key.replace(":", "."),
    )
