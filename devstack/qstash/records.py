"""The in-memory records the server keeps: messages, DLQ entries, log events, schedules, queues
and URL groups."""

from __future__ import annotations

import asyncio
import enum
import secrets
from collections import deque
from dataclasses import dataclass, field

from devstack.qstash.cron import CronExpression
from devstack.qstash.options import DeliveryOptions, Headers


def new_id(prefix: str) -> str:
    """A random identifier such as `msg_3f9a...`, unique for the lifetime of the server."""
    return f"{prefix}_{secrets.token_hex(12)}"


def millis(seconds: float) -> int:
    """Unix seconds as the integer milliseconds the API speaks."""
    return int(seconds * 1000)


class MessageState(enum.Enum):
    """The states a message goes through, as they appear in the event log."""

    CREATED = "CREATED"
    ACTIVE = "ACTIVE"
    RETRY = "RETRY"
    ERROR = "ERROR"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class AttemptResponse:
    """What a destination answered to one delivery attempt."""

    status: int
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), if present."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(eq=False)
class Message:
    """One message to deliver to one URL, from creation until delivered, failed or cancelled."""

    message_id: str
    url: str
    body: bytes
    options: DeliveryOptions
    created_at: float
    due_at: float
    caller_ip: str
    topic_name: str | None = None
    endpoint_name: str | None = None
    queue_name: str | None = None
    schedule_id: str | None = None
    retried: int = 0
    in_flight: bool = False
    cancel_requested: bool = False
    finished: bool = False
    # Set when the message is cancelled so that a pending wait ends at once.
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class DlqEntry:
    """A message that failed for good, with the last response it got."""

    dlq_id: str
    message: Message
    response: AttemptResponse | None
    failed_at: float
    seq: int


@dataclass(frozen=True, eq=False)
class LogEvent:
    """One state change of one message."""

    seq: int
    time: float
    state: MessageState
    message: Message
    error: str | None = None
    next_delivery_time: float | None = None
    response: AttemptResponse | None = None


@dataclass(eq=False)
class Schedule:
    """A cron schedule that publishes the same message every time it fires."""

    schedule_id: str
    destination: str
    cron: CronExpression
    body: bytes
    options: DeliveryOptions
    queue_name: str | None
    caller_ip: str
    created_at: float
    # Cron times run on a clock that goes 1/time_scale as fast as the real one from created_at;
    # next_cron_time is on that clock, next_fire is the same instant in real time.
    next_cron_time: float
    next_fire: float
    paused: bool = False
    last_fire: float | None = None
    last_states: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(eq=False)
class QueueState:
    """A named FIFO queue: pending messages and the workers that deliver them."""

    name: str
    parallelism: int
    paused: bool
    created_at: float
    updated_at: float
    pending: deque[Message] = field(default_factory=deque)
    active: int = 0
    workers: int = 0
    deleted: bool = False
    # Set whenever pending, paused, parallelism or deleted changes; idle workers wait on it.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def lag(self) -> int:
        """Messages accepted by the queue and not finished yet."""
        return self.active + sum(1 for message in self.pending if not message.finished)


@dataclass
class Endpoint:
    """One URL of a URL group, optionally named."""

    url: str
    name: str | None = None


@dataclass(eq=False)
class UrlGroup:
    """A named set of endpoints a message can be fanned out to (a "topic" in the API)."""

    name: str
    created_at: float
    updated_at: float
    endpoints: list[Endpoint] = field(default_factory=list)
