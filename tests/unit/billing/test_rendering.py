"""The invoice and reminder emails: amounts in their currency's units, the due date, wording."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.billing.models import BillingKind, BillingMessage
from chalicelib.billing.rendering import format_amount, render_email


def _message(kind: BillingKind, amount: int = 123450, currency: str = "EUR") -> BillingMessage:
    return BillingMessage(
        kind=kind,
        invoice_id="INV-7",
        recipient="ada@example.com",
        amount=amount,
        currency=currency,
        due_date=date(2025, 7, 1),
        request_id="r-1",
    )


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123450, "EUR", "1,234.50 EUR"),
        (5, "USD", "0.05 USD"),
        (100, "GBP", "1.00 GBP"),
        (5000, "JPY", "5,000 JPY"),
        (1234567, "KWD", "1,234.567 KWD"),
        (1, "BHD", "0.001 BHD"),
        (123456789012, "CHF", "1,234,567,890.12 CHF"),
    ],
)
def test_amounts_are_shown_in_the_currency_s_own_units(
    amount: int, currency: str, shown: str
) -> None:
    assert format_amount(amount, currency) == shown


def test_the_invoice_email_states_the_invoice_amount_and_due_date() -> None:
    email = render_email(_message("invoice"))

    assert email.to == ("ada@example.com",)
    assert email.subject == "Invoice INV-7: 1,234.50 EUR due 2025-07-01"
    assert "Please find below invoice INV-7." in email.text
    assert "Amount due: 1,234.50 EUR\nDue date: 2025-07-01\n" in email.text
    assert email.html is None


def test_the_reminder_email_is_worded_as_a_reminder() -> None:
    invoice, reminder = render_email(_message("invoice")), render_email(_message("reminder"))

    assert reminder.subject == "Reminder: invoice INV-7 is due on 2025-07-01"
    assert "reminder that invoice INV-7 is due for payment" in reminder.text
    assert "If you have already paid" in reminder.text
    assert "Amount due: 1,234.50 EUR" in reminder.text
    assert "reminder" not in invoice.text.lower()


def test_each_email_carries_a_message_id_derived_from_its_effect_key() -> None:
    invoice, reminder = render_email(_message("invoice")), render_email(_message("reminder"))

    assert invoice.message_id == "billing.invoice.INV-7.r-1"
    assert reminder.message_id == "billing.reminder.INV-7.r-1"
