"""Fakes for the event bus: a recording QStash publisher and an in-memory dead-letter store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.events.deadletters import AlreadyReplayedError, DeadLetter
from chalicelib.queue.messages import OutgoingMessage, PublishReceipt
from chalicelib.queue.publisher import PublishFailedError

if TYPE_CHECKING:
    pass


class RecordingPublisher:
    """Takes every message, recording each call; or refuses every call when `down`."""

    def __init__(self) -> None:
        self.calls: list[list[OutgoingMessage]] = []
        self.down = False

    @property
    def messages(self) -> list[OutgoingMessage]:
        """Every message taken, in order."""
        return [message for call in self.calls for message in call]

    def _take(self, messages: Sequence[OutgoingMessage]) -> list[PublishReceipt]:
        if self.down:
            raise PublishFailedError("ConnectError: QStash is down")
        self.calls.append(list(messages))
        return [
            PublishReceipt(message_id=f"msg_{len(self.calls)}_{n}") for n in range(len(messages))
        ]

    def publish(self, message: OutgoingMessage) -> PublishReceipt:
        """One call with one message."""
        return self._take([message])[0]

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> list[PublishReceipt]:
        """One call with every message."""
        return self._take(messages)


class InMemoryDeadLetterStore:
    """`DeadLetterStore` over a dict, newest first by recorded time then id."""

    def __init__(self) -> None:
        self.records: dict[str, DeadLetter] = {}

    def add(self, record: DeadLetter) -> tuple[DeadLetter, bool]:
        """Store unless the id exists."""
        if record.dead_letter_id in self.records:
            return self.records[record.dead_letter_id], False
        self.records[record.dead_letter_id] = record
        return record, True

    def get(self, dead_letter_id: str) -> DeadLetter | None:
        """The record, or None."""
        return self.records.get(dead_letter_id)

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[DeadLetter], str | None]:
        """Newest first; the cursor is the last id of the previous page."""
        ordered = sorted(
            self.records.values(), key=lambda r: (r.recorded_at, r.dead_letter_id), reverse=True
        )
        ids = [record.dead_letter_id for record in ordered]
        start = ids.index(cursor) + 1 if cursor is not None else 0
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return page, (page[-1].dead_letter_id if more and page else None)

    def mark_replayed(self, record: DeadLetter, *, message_id: str, now: datetime) -> DeadLetter:
        """Replayed, unless it was already."""
        current = self.records[record.dead_letter_id]
        if current.status == "replayed":
            raise AlreadyReplayedError(current)
        replayed = current.model_copy(
            update={"status": "replayed", "replayed_at": now, "replay_message_id": message_id}
        )
        self.records[record.dead_letter_id] = replayed
        return replayed
