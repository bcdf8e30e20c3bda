"""What an escrow is, the requests that change it, and the transitions between its states."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from pydantic.alias_generators import to_camel

EscrowState = Literal["funded", "released", "refunded", "disputed"]
Action = Literal["create", "release", "refund", "dispute", "resolve"]
Resolution = Literal["release", "refund"]

ESCROW_ID_PATTERN = r"^[0-9a-f]{32}$"
# Deliberately loose: the mail server is the judge of an address; this catches typos and junk.
_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_PAYMENT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,255}$"


class _Camel(BaseModel):
    """JSON in camelCase, Python in snake_case."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class CreateEscrowRequest(_Camel):
    """`POST /api/escrow`: a funded escrow, its parties, and where its partner hears of it."""

    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, le=10**15, strict=True, description="in the currency's minor units")
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code")
    buyer_email: str = Field(max_length=254, pattern=_EMAIL_PATTERN)
    seller_email: str = Field(max_length=254, pattern=_EMAIL_PATTERN)
    partner_webhook_url: HttpUrl | None = None
    payment_id: str | None = Field(default=None, pattern=_PAYMENT_ID_PATTERN)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class NoteRequest(_Camel):
    """The optional body of release, refund and dispute: a note kept in the history."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=1000)


class ResolveRequest(_Camel):
    """`POST /api/escrow/{id}/dispute/resolve`: which way the dispute went, and why."""

    model_config = ConfigDict(extra="forbid")

    resolution: Resolution
    note: str = Field(min_length=1, max_length=1000)


class Transition(_Camel):
    """One change of an escrow: what was asked, the state it led to, when, and any note."""

    action: Action
    state: EscrowState
    at: datetime
    note: str | None = None


class Escrow(_Camel):
    """An escrow as stored: its terms, its state, its history and the jobs it spawned.

    `jobs` maps each side effect's key (see `chalicelib.escrow.planning`) to the id of the job
    enqueued for it; a planned side effect missing from it has not been enqueued yet.
    """

    escrow_id: str = Field(pattern=ESCROW_ID_PATTERN)
    amount: int = Field(gt=0)
    currency: str
    buyer_email: str
    seller_email: str
    partner_webhook_url: str | None = None
    payment_id: str | None = None
    state: EscrowState
    created_at: datetime
    updated_at: datetime
    transitions: tuple[Transition, ...]
    jobs: dict[str, str] = Field(default_factory=dict)
