"""Builders of Meta's Instagram webhook bodies, shaped as Meta documents them."""

from __future__ import annotations

from typing import Any

BUSINESS_ID = "17841400000000001"
USER_ID = "5522000000000002"


def message_event(
    mid: str,
    text: str = "hello",
    *,
    sender: str = USER_ID,
    recipient: str = BUSINESS_ID,
    timestamp: int = 1_700_000_000_000,
    **extra: Any,
) -> dict[str, Any]:
    """A text message from `sender` to `recipient`."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text, **extra},
    }


def read_event(
    mid: str, *, reader: str = USER_ID, other: str = BUSINESS_ID, timestamp: int = 1_700_000_100_000
) -> dict[str, Any]:
    """`reader` has read the conversation up to `mid`."""
    return {
        "sender": {"id": reader},
        "recipient": {"id": other},
        "timestamp": timestamp,
        "read": {"mid": mid},
    }


def delivery_event(
    mids: list[str],
    watermark: int,
    *,
    reader: str = USER_ID,
    other: str = BUSINESS_ID,
) -> dict[str, Any]:
    """`mids` (everything up to `watermark`) were delivered to `reader`."""
    return {
        "sender": {"id": reader},
        "recipient": {"id": other},
        "timestamp": watermark + 5,
        "delivery": {"mids": mids, "watermark": watermark},
    }


def reaction_event(
    mid: str,
    action: str = "react",
    *,
    reactor: str = USER_ID,
    other: str = BUSINESS_ID,
    timestamp: int = 1_700_000_200_000,
) -> dict[str, Any]:
    """`reactor` reacts to message `mid` with a heart (or takes the reaction back)."""
    reaction: dict[str, Any] = {"mid": mid, "action": action}
    if action == "react":
        reaction.update(reaction="love", emoji="\u2764")
    return {
        "sender": {"id": reactor},
        "recipient": {"id": other},
        "timestamp": timestamp,
        "reaction": reaction,
    }


def webhook(*events: dict[str, Any], account: str = BUSINESS_ID) -> dict[str, Any]:
    """The POST body carrying `events` in one entry."""
    return {
        "object": "instagram",
        "entry": [{"id": account, "time": 1_700_000_300_000, "messaging": list(events)}],
    }
