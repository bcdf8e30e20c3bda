"""Everything the server knows, in memory: messages, DLQ, event log, schedules, queues, URL groups
and the deduplication window."""

from __future__ import annotations

import itertools
import time
from collections import deque

from devstack.qstash.records import (
    AttemptResponse,
    DlqEntry,
    LogEvent,
    Message,
    MessageState,
    QueueState,
    Schedule,
    UrlGroup,
    new_id,
)

DEDUPLICATION_WINDOW_SECONDS = 600.0
# The log is the only record that grows with traffic; old events are dropped past this size.
MAX_LOG_EVENTS = 100_000


class QStashStore:
    """The server's state. Only touched from the server's event loop, so it needs no locks."""

    def __init__(self, current_signing_key: str, next_signing_key: str) -> None:
        self.current_signing_key = current_signing_key
        self.next_signing_key = next_signing_key
        self.messages: dict[str, Message] = {}
        self.dlq: dict[str, DlqEntry] = {}
        self.events: deque[LogEvent] = deque(maxlen=MAX_LOG_EVENTS)
        self.schedules: dict[str, Schedule] = {}
        self.queues: dict[str, QueueState] = {}
        self.url_groups: dict[str, UrlGroup] = {}
        self._deduplication: dict[str, tuple[str, float]] = {}
        self._sequence = itertools.count(1)

    def log(
        self,
        state: MessageState,
        message: Message,
        *,
        error: str | None = None,
        next_delivery_time: float | None = None,
        response: AttemptResponse | None = None,
    ) -> None:
        """Append a state change of `message` to the event log."""
        self.events.append(
            LogEvent(
                seq=next(self._sequence),
                time=time.time(),
                state=state,
                message=message,
                error=error,
                next_delivery_time=next_delivery_time,
                response=response,
            )
        )

    def add_to_dlq(self, message: Message, response: AttemptResponse | None) -> DlqEntry:
        """Record `message` as failed for good and return its DLQ entry."""
        entry = DlqEntry(
            dlq_id=new_id("dlq"),
            message=message,
            response=response,
            failed_at=time.time(),
            seq=next(self._sequence),
        )
        self.dlq[entry.dlq_id] = entry
        return entry

    def duplicate_of(self, key: str, now: float) -> str | None:
        """The id of the message published with deduplication `key` in the last 10 minutes."""
        seen = self._deduplication.get(key)
        if seen is None or now - seen[1] >= DEDUPLICATION_WINDOW_SECONDS:
            return None
        return seen[0]

    def remember_deduplication(self, key: str, message_id: str, now: float) -> None:
        """Start the 10-minute window for `key`, forgetting keys whose window has passed."""
        # Keys are kept in the order they were seen, so the expired ones are at the front.
        while self._deduplication:
            oldest, (_, seen_at) = next(iter(self._deduplication.items()))
            if now - seen_at < DEDUPLICATION_WINDOW_SECONDS:
                break
            del self._deduplication[oldest]
        self._deduplication.pop(key, None)
        self._deduplication[key] = (message_id, now)
