"""What a client asks billing to send, and the message queued for the consumer."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BillingKind = Literal["invoice", "reminder"]

# Ids become part of a Redis key, a QStash deduplication id and an email Message-ID: plain
# tokens only, and no `.` so the Message-ID built from them stays unambiguous.
INVOICE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
# A deliberately plain check (one @, a dotted domain, nothing that could break a header).
EMAIL_PATTERN = r"^[^@\s<>,;:\"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A trillion minor units: larger amounts are typos, not invoices.
MAX_AMOUNT = 10**12


class InvoiceDetails(BaseModel):
    """The invoice an email is about and who receives it."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    invoice_id: str = Field(alias="invoiceId", pattern=INVOICE_ID_PATTERN)
    recipient: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    # Minor units (cents): an integer, never a float or a numeric string.
    amount: int = Field(gt=0, le=MAX_AMOUNT, strict=True)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    due_date: date = Field(alias="dueDate")

    @field_validator("currency", mode="before")
    @classmethod
    def _upper_currency(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("due_date", mode="before")
    @classmethod
    def _iso_date_only(cls, value: Any) -> Any:
        # pydantic would also take a Unix timestamp or a datetime; the API promises YYYY-MM-DD.
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise ValueError("must be an ISO date, YYYY-MM-DD")
        return value


class SendRequest(InvoiceDetails):
    """The body of `POST /api/invoices/send` and `POST /api/reminders/send`."""

    request_id: str | None = Field(default=None, alias="requestId", pattern=REQUEST_ID_PATTERN)


class IdempotencyKeyHeader(BaseModel):
    """The optional `Idempotency-Key` header, the send request id when the body has none."""

    value: str | None = Field(default=None, alias="Idempotency-Key", pattern=REQUEST_ID_PATTERN)


class BillingMessage(InvoiceDetails):
    """One email to send: what is queued for the consumer, and what the inline path sends."""

    kind: BillingKind
    request_id: str = Field(alias="requestId", pattern=REQUEST_ID_PATTERN)

    @property
    def effect_key(self) -> str:
        """The key the email is sent once per: kind, invoice and send request id."""
        return f"billing:{self.kind}:{self.invoice_id}:{self.request_id}"

    def body(self) -> dict[str, Any]:
        """The message as the JSON body QStash delivers."""
        return self.model_dump(mode="json", by_alias=True)
