"""In-memory stand-ins for what billing talks to: QStash and the counters."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from chalicelib.queue.messages import OutgoingMessage, PublishReceipt
from chalicelib.queue.publisher import PublishFailedError

if TYPE_CHECKING:
    pass


class FakePublisher:
    """Accepts every message (recording it), or, with `fail`, refuses every one."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[OutgoingMessage] = []

    def publish(self, message: OutgoingMessage) -> PublishReceipt:
        self.published.append(message)
        if self.fail:
            raise PublishFailedError("ConnectError: QStash is down")
        return PublishReceipt(message_id=f"msg_{len(self.published)}")


class InMemoryCounterStore:
    """Counters in a `Counter`."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def increment(self, field: str) -> None:
        self.counts[field] += 1

    def read(self) -> dict[str, int]:
        return dict(self.counts)


class FakeHashRedis:
    """The two hash commands `RedisCounterStore` sends, in memory; `broken` fails them both."""

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.hashes: dict[str, dict[str, int]] = {}

    def hincrby(self, key: str, field: str, increment: int) -> int:
        if self.broken:
            raise ConnectionError("Redis is unreachable")
        stored = self.hashes.setdefault(key, {})
        stored[field] = stored.get(field, 0) + increment
        return stored[field]

    def hgetall(self, key: str) -> dict[str, str]:
        if self.broken:
            raise ConnectionError("Redis is unreachable")
        return {field: str(value) for field, value in self.hashes.get(key, {}).items()}
