"""In-memory stand-ins for what billing talks to: QStash, the once-only store, the counters."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING

from chalicelib.queue.messages import OutgoingMessage, PublishReceipt
from chalicelib.queue.publisher import PublishFailedError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


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


Name = str | bytes | memoryview


def _text(value: Name | float) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    return value.decode() if isinstance(value, bytes) else str(value)


class InMemoryCache:
    """The get/set/delete client Powertools' cache layer calls, over a dict (expiry ignored:
    no unit test lives long enough to see a record expire)."""

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.values: dict[str, str] = {}

    def _check(self) -> None:
        if self.broken:
            raise ConnectionError("the cache is unreachable")

    def get(self, name: Name) -> str | None:
        self._check()
        return self.values.get(_text(name))

    def set(
        self,
        name: str | bytes,
        value: bytes | float | str,
        ex: float | timedelta | None = None,
        px: float | timedelta | None = None,
        nx: bool = False,
    ) -> bool | None:
        self._check()
        if nx and _text(name) in self.values:
            return None
        self.values[_text(name)] = _text(value)
        return True

    def delete(self, *names: Name) -> int:
        self._check()
        return sum(self.values.pop(_text(name), None) is not None for name in names)


def in_memory_persistence(cache: InMemoryCache | None = None) -> BasePersistenceLayer:
    """Powertools' real cache persistence layer over `cache` (a fresh one by default)."""
    from aws_lambda_powertools.utilities.idempotency.persistence.cache import (
        CachePersistenceLayer,
    )

    return CachePersistenceLayer(client=cache or InMemoryCache())


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
