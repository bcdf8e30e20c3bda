"""Meta's Instagram messaging webhook payload, as pydantic models.

Meta adds fields over time, so every model keeps fields it does not know (and passes them on to
the consumer) instead of rejecting them; only the shape the application relies on is checked.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EventKind = Literal["message", "read", "delivery", "reaction"]
EVENT_KINDS: tuple[EventKind, ...] = ("message", "read", "delivery", "reaction")

# Instagram-scoped ids are numeric strings; a separator-free alphabet keeps the conversation id
# (two ids joined by "_") unambiguous.
PARTICIPANT_ID_PATTERN = r"^[0-9A-Za-z]{1,64}$"
# Milliseconds since the epoch: 13 digits until the year 2286, which keeps sort keys in order.
MAX_TIMESTAMP_MS = 9_999_999_999_999


class MetaModel(BaseModel):
    """A part of Meta's payload: fields Meta adds later are kept, not refused."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Participant(MetaModel):
    """One side of a conversation (an Instagram-scoped user or the business account)."""

    id: str = Field(pattern=PARTICIPANT_ID_PATTERN)


class Attachment(MetaModel):
    """A media or share attachment; its payload (usually a URL) is kept as Meta sent it."""

    type: str = Field(min_length=1, max_length=64)
    payload: dict[str, Any] | None = None


class MessageBody(MetaModel):
    """A message sent by the user (or, with `is_echo`, by the business account)."""

    mid: str = Field(min_length=1, max_length=512)
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    is_echo: bool = False


class ReadBody(MetaModel):
    """The sender has read the conversation up to message `mid`."""

    mid: str = Field(min_length=1, max_length=512)


class DeliveryBody(MetaModel):
    """Messages delivered to the sender: `mids` (may be empty), everything up to `watermark`."""

    mids: list[str] = Field(default_factory=list)
    watermark: int = Field(ge=0, le=MAX_TIMESTAMP_MS)


class ReactionBody(MetaModel):
    """The sender reacted to message `mid`, or took the reaction back (`unreact`)."""

    mid: str = Field(min_length=1, max_length=512)
    action: Literal["react", "unreact"]
    reaction: str | None = None
    emoji: str | None = None


class MessagingEvent(MetaModel):
    """One element of an entry's `messaging` list: at most one of the four kinds it may carry.

    An event carrying none of them is a kind the application does not handle (a postback, a
    referral, ...): it is valid, and ignored.
    """

    sender: Participant
    recipient: Participant
    timestamp: int = Field(ge=0, le=MAX_TIMESTAMP_MS)
    message: MessageBody | None = None
    read: ReadBody | None = None
    delivery: DeliveryBody | None = None
    reaction: ReactionBody | None = None

    @model_validator(mode="after")
    def _at_most_one_kind(self) -> MessagingEvent:
        present = [kind for kind in EVENT_KINDS if getattr(self, kind) is not None]
        if len(present) > 1:
            raise ValueError(f"an event carries one of {EVENT_KINDS}, not {present}")
        return self

    @property
    def kind(self) -> EventKind | None:
        """Which of the handled kinds this event is, or None for any other."""
        return next((kind for kind in EVENT_KINDS if getattr(self, kind) is not None), None)

    @property
    def conversation_id(self) -> str:
        """Both participants' ids, sorted: the same for either direction of the conversation."""
        return conversation_id(self.sender.id, self.recipient.id)

    def wire_body(self) -> dict[str, Any]:
        """The event as JSON, Meta's names and any extra fields included."""
        return self.model_dump(mode="json", exclude_none=True)

    def deduplication_id(self) -> str:
        """A QStash deduplication id that is the same whenever Meta sends this event again.

        A message is identified by its mid; a read by reader and mid. A reaction needs its
        action, reactor and time too, or a quick react-unreact-react would be deduplicated into
        one. A delivery has no single mid, so its whole JSON is the identity. The identity is
        hashed because mids are long and not guaranteed header-safe.
        """
        if self.message is not None:
            parts = ["message", self.message.mid]
        elif self.read is not None:
            parts = ["read", self.sender.id, self.read.mid]
        elif self.reaction is not None:
            reaction = self.reaction
            parts = ["reaction", self.sender.id, reaction.mid, reaction.action, str(self.timestamp)]
        else:
            parts = [str(self.kind), json.dumps(self.wire_body(), sort_keys=True)]
        digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:48]
        return f"instagram-{parts[0]}-{digest}"


class WebhookEntry(MetaModel):
    """One entry: the events of one Instagram account (entries without `messaging` are other
    subscriptions, such as comments, and carry no messaging events)."""

    id: str = Field(min_length=1, max_length=64)
    time: int = Field(ge=0)
    messaging: list[MessagingEvent] = Field(default_factory=list)


class InstagramWebhook(MetaModel):
    """The body Meta POSTs: `{"object": "instagram", "entry": [...]}`."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    object_: Literal["instagram"] = Field(alias="object")
    entry: list[WebhookEntry]

    def events(self) -> list[MessagingEvent]:
        """Every messaging event of every entry, in Meta's order."""
        return [event for entry in self.entry for event in entry.messaging]


def conversation_id(first: str, second: str) -> str:
    """The conversation between two participants, whichever of them speaks."""
    low, high = sorted((first, second))
    return f"{low}_{high}"
