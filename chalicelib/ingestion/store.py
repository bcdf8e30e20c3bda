"""How conversations are kept: the records, the interface the domain code uses, its errors.

Every write is keyed deterministically by what Meta sent, so a redelivered event lands on the
item it wrote the first time: a message is stored once per mid, a receipt overwrites itself, and
a reaction only ever moves forward in time.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.ingestion.payload import Attachment


class StoreUnavailableError(Exception):
    """The store could not be reached or refused the write for a transient reason: try again."""


class UnstorableRecordError(Exception):
    """The store refuses the record for good (say, larger than an item may be): do not retry."""


class StoredMessage(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    mid: str
    sender_id: str
    recipient_id: str
    timestamp: int
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Sent by the business account itself (Meta echoes those back).
    is_echo: bool = False


class StoredReceipt(BaseModel):
    """A read or delivery receipt: `reader_id` has read `mids[0]` / received `mids`."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    kind: Literal["read", "delivery"]
    reader_id: str
    timestamp: int
    mids: tuple[str, ...] = ()
    # Deliveries only: everything sent before this time (ms) has been delivered.
    watermark: int | None = None


class StoredReaction(BaseModel):
    """The latest reaction of `reactor_id` to message `mid`; `unreact` means taken back."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    mid: str
    reactor_id: str
    action: Literal["react", "unreact"]
    timestamp: int = Field(ge=0)
    reaction: str | None = None
    emoji: str | None = None


class ConversationStore(Protocol):
    """Persistence of Instagram conversations: messages, receipts and reactions."""

    def add_message(self, message: StoredMessage) -> bool:
        """Store `message` unless its mid is already stored; True when it was stored now."""
        ...

    def record_receipt(self, receipt: StoredReceipt) -> bool:
        """Store `receipt` under its deterministic key; True when it was not recorded before."""
        ...

    def record_reaction(self, reaction: StoredReaction) -> bool:
        """Make `reaction` the reactor's state on the message unless a state at least as recent
        is already recorded (events may arrive out of order); True when it changed."""
        ...

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation's messages, oldest first."""
        ...

    def receipts(self, conversation_id: str) -> list[StoredReceipt]:
        """The conversation's read and delivery receipts."""
        ...

    def reactions(self, conversation_id: str) -> list[StoredReaction]:
        """The conversation's reactions (taken-back ones as `unreact`)."""
        ...
