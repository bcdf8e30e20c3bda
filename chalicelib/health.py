"""Which backends the application is configured for, and whether each one answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from chalicelib.observability import logger
from chalicelib.settings import Settings

# The endpoint is public and each check costs a DynamoDB DescribeTable (a control-plane call
# with low rate limits), a Redis PING and an authenticated QStash call: answering from a report
# this young keeps a flood of checks from spending those limits, and a monitor polling every
# 30-60 s still sees every change.
HEALTH_CACHE_SECONDS = 10.0
# What callers outside the local stage are told about a backend that does not answer: the
# exception text can name hosts, tables or accounts, so it goes to the log only.
HIDDEN_ERROR = "unreachable"


class BackendHealth(BaseModel):
    """The state of one backend as seen from this process."""

    configured: bool
    required: bool
    reachable: bool | None = None
    latency_ms: float | None = None
    error: str | None = None


class HealthReport(BaseModel):
    """The answer of the health endpoint: `ok` only when every required backend answers."""

    status: Literal["ok", "unavailable"]
    stage: str
    backends: dict[str, BackendHealth]


@dataclass(frozen=True)
class BackendProbe:
    """How to check one backend: `ping` raises when the backend does not answer."""

    name: str
    configured: bool
    required: bool
    ping: Callable[[], object]


def backend_probes(settings: Settings) -> list[BackendProbe]:
    """The probes for the real backends named by `settings`.

    DynamoDB and Redis hold every capability's state, so both are required. QStash is required
    only once configured: without a token the application deliberately runs work inline.
    """
    from chalicelib.dynamodb import dynamodb_client
    from chalicelib.queue.qstash_client import qstash_client
    from chalicelib.redis_client import upstash_redis_client

    return [
        BackendProbe(
            name="dynamodb",
            configured=True,
            required=True,
            ping=lambda: dynamodb_client(settings).describe_table(
                TableName=settings.longhaul_table
            ),
        ),
        BackendProbe(
            name="redis",
            configured=settings.redis_configured,
            required=True,
            ping=lambda: upstash_redis_client(settings).ping(),
        ),
        BackendProbe(
            name="qstash",
            configured=settings.qstash_configured,
            required=settings.qstash_configured,
            ping=lambda: qstash_client(settings).signing_key.get(),
        ),
    ]


def _probe(probe: BackendProbe) -> BackendHealth:
    if not probe.configured:
        return BackendHealth(configured=False, required=probe.required)
    started = time.perf_counter()
    try:
        probe.ping()
    except Exception as exc:  # any failure to answer is what this check reports
        return BackendHealth(
            configured=True,
            required=probe.required,
            reachable=False,
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
    return BackendHealth(
        configured=True,
        required=probe.required,
        reachable=True,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def _for_callers(stage: str, name: str, result: BackendHealth) -> BackendHealth:
    """`result` as the caller may see it: outside `local`, the error's detail is only logged."""
    if result.error is None or stage == "local":
        return result
    logger.warning("backend unreachable", extra={"backend": name, "error": result.error})
    return result.model_copy(update={"error": HIDDEN_ERROR})


def check_health(stage: str, probes: Sequence[BackendProbe]) -> HealthReport:
    """Ping every probe concurrently (each client bounds its own time) and summarise."""
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        results = list(pool.map(_probe, probes))
    backends = {
        probe.name: _for_callers(stage, probe.name, result)
        for probe, result in zip(probes, results, strict=True)
    }
    healthy = all(b.reachable for b in backends.values() if b.required)
    return HealthReport(status="ok" if healthy else "unavailable", stage=stage, backends=backends)


class HealthCache:
    """The last report, reused until it is `ttl_seconds` old (by `clock`, in seconds)."""

    def __init__(
        self,
        ttl_seconds: float = HEALTH_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        # Held while checking, so concurrent requests on a threaded server wait for one check
        # instead of each starting their own.
        self._lock = threading.Lock()
        self._report: HealthReport | None = None
        self._checked_at = 0.0

    def report(self, check: Callable[[], HealthReport]) -> HealthReport:
        """The cached report while it is fresh, else the result of `check` (then cached)."""
        with self._lock:
            now = self._clock()
            if self._report is None or now - self._checked_at >= self._ttl:
                self._report = check()
                self._checked_at = now
            return self._report

    def clear(self) -> None:
        """Forget the report: the next call checks the backends again."""
        with self._lock:
            self._report = None


_cache = HealthCache()


def cached_health(settings: Settings) -> HealthReport:
    """The health of the backends `settings` names, checked at most once per cache window."""
    return _cache.report(lambda: check_health(settings.stage, backend_probes(settings)))


def clear_health_cache() -> None:
    """Make the next `cached_health` check again (tests that change the configuration do)."""
    _cache.clear()
