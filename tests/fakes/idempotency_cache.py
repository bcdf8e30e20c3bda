"""Powertools' run-once records kept in memory, for unit tests of consumers and job handlers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

Name = str | bytes | memoryview


def _text(value: Name | float) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    return value.decode() if isinstance(value, bytes) else str(value)


class InMemoryCache:
    """The get/set/delete client Powertools' cache layer calls, over a dict (expiry ignored:
    no unit test lives long enough to see a record expire). `broken` makes every call fail as
    an unreachable Redis would."""

    def __init__(self, *, broken: bool = False) -> None:
        self.broken = broken
        self.values: dict[str, str] = {}

    def _check(self) -> None:
        if self.broken:
            raise ConnectionError("the cache is unreachable")

    def get(self, name: Name) -> str | None:
        """The stored value."""
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
        """SET; with NX, None when the key exists (as redis-py answers)."""
        self._check()
        if nx and _text(name) in self.values:
            return None
        self.values[_text(name)] = _text(value)
        return True

    def delete(self, *names: Name) -> int:
        """DEL."""
        self._check()
        return sum(self.values.pop(_text(name), None) is not None for name in names)


def in_memory_persistence(cache: InMemoryCache | None = None) -> BasePersistenceLayer:
    """Powertools' real cache persistence layer over `cache` (a fresh one by default)."""
    from aws_lambda_powertools.utilities.idempotency.persistence.cache import (
        CachePersistenceLayer,
    )

    return CachePersistenceLayer(client=cache or InMemoryCache())
