"""Billing's counters: kept in one Upstash Redis hash so they can be read back in one call.

Each count is also emitted as a CloudWatch metric (EMF); the hash is what
`GET /api/queue/metrics` reads. Counting never fails the work it counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field

from chalicelib.billing.models import BillingKind
from chalicelib.observability import count_metric, logger
from chalicelib.queue.dispatch import FallbackReason

if TYPE_CHECKING:
    from upstash_redis import Redis

COUNTERS_KEY = "longhaul:billing:metrics"

BillingEvent = Literal["queued", "sent", "duplicate", "dead"]
_METRIC_NAMES: dict[BillingEvent, str] = {
    "queued": "BillingQueued",
    "sent": "BillingSent",
    "duplicate": "BillingDuplicate",
    "dead": "BillingDead",
}
_FALLBACK_PREFIX = "fallback:"


class MetricsUnavailableError(RuntimeError):
    """The counters could not be read."""


class CounterStore(Protocol):
    """Named counters: incremented one at a time, read all at once."""

    def increment(self, field: str) -> None:
        """Add one to `field`; never raises."""
        ...

    def read(self) -> dict[str, int]:
        """Every counter; raises `MetricsUnavailableError` when they cannot be read."""
        ...


class RedisCounterStore:
    """The counters as fields of one Redis hash: HINCRBY to count, HGETALL to read."""

    def __init__(self, redis: Redis, key: str = COUNTERS_KEY) -> None:
        self._redis = redis
        self._key = key

    def increment(self, field: str) -> None:
        """HINCRBY `field`; a Redis error is logged, never raised."""
        try:
            self._redis.hincrby(self._key, field, 1)
        except Exception as exc:  # a lost count must not fail an email that was sent
            logger.warning(
                "billing counter not incremented",
                extra={"counter": field, "error": f"{type(exc).__name__}: {exc}"},
            )

    def read(self) -> dict[str, int]:
        """Every counter, from one HGETALL."""
        try:
            stored = self._redis.hgetall(self._key)
        except Exception as exc:
            raise MetricsUnavailableError(f"{type(exc).__name__}: {exc}") from exc
        return {str(name): int(value) for name, value in stored.items()}


def count_event(store: CounterStore, event: BillingEvent, kind: BillingKind) -> None:
    """Count `event` for an email of `kind`: a CloudWatch metric and a Redis counter."""
    count_metric(_METRIC_NAMES[event], kind=kind)
    store.increment(event)


def count_fallback(store: CounterStore, reason: FallbackReason) -> None:
    """Count a send that ran inline for `reason` (`dispatch` has emitted its CloudWatch metric)."""
    store.increment(_FALLBACK_PREFIX + reason)


class BillingMetrics(BaseModel):
    """The counters as `GET /api/queue/metrics` answers them."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    queued: int = 0
    sent: int = 0
    duplicates: int = 0
    dead: int = 0
    fallbacks: dict[str, int] = Field(default_factory=dict)

    @computed_field(alias="fallbackTotal")  # type: ignore[prop-decorator]
    @property
    def fallback_total(self) -> int:
        """Sends that ran inline, whatever the reason."""
        return sum(self.fallbacks.values())

    @computed_field(alias="fallbackRate")  # type: ignore[prop-decorator]
    @property
    def fallback_rate(self) -> float | None:
        """Share of send requests that ran inline: fallbacks / (queued + fallbacks); None
        before the first request."""
        requests = self.queued + self.fallback_total
        return None if requests == 0 else self.fallback_total / requests

    @classmethod
    def from_counters(cls, counters: dict[str, int]) -> BillingMetrics:
        """The metrics from the stored counters (a counter never incremented reads 0)."""
        return cls(
            queued=counters.get("queued", 0),
            sent=counters.get("sent", 0),
            duplicates=counters.get("duplicate", 0),
            dead=counters.get("dead", 0),
            fallbacks={
                reason: counters.get(_FALLBACK_PREFIX + reason, 0)
                for reason in get_args(FallbackReason)
            },
        )


def read_metrics(store: CounterStore) -> BillingMetrics:
    """The current metrics; raises `MetricsUnavailableError` when the store cannot be read."""
    return BillingMetrics.from_counters(store.read())
