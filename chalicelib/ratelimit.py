"""Per-client rate limits on costly routes, counted in the app's Upstash Redis.

A limiter answers one question per request, "may this client go ahead, and if not, for how
long should it wait?", as a `RateDecision`. Routes only translate that decision into HTTP; they
never see Redis or the limiting algorithm, and tests can hand them any `RateLimiter`.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.observability import count_metric, logger
from chalicelib.redis_client import RedisNotConfiguredError, upstash_redis_client
from chalicelib.settings import Settings

# Namespaced so the counters can share a Redis database with anything else the app stores.
KEY_PREFIX = "longhaul:ratelimit"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class RateDecision:
    """Whether one request may go ahead; when it may not, the whole seconds to wait (>= 1)."""

    allowed: bool
    retry_after_seconds: int = 0


ALLOWED = RateDecision(allowed=True)


class RateLimiter(Protocol):
    """Counts one request of `identifier` and decides whether it is within the limit."""

    def check(self, identifier: str) -> RateDecision:
        """Count one request of `identifier` against the limit and decide."""
        ...


class NoLimit:
    """The limiter of a route whose limit is turned off: everything goes ahead."""

    def check(self, identifier: str) -> RateDecision:
        """Always allowed, and nothing is counted anywhere."""
        return ALLOWED


class UpstashRateLimiter:
    """At most `limit` requests per identifier in any sliding window of `window_seconds`.

    upstash-ratelimit's sliding window, rather than its fixed window or token bucket: a fixed
    window lets a client spend its limit at the end of one window and again at the start of the
    next (twice the limit in a moment), and a token bucket's refill rate is harder to state as
    "N per window". The sliding window weighs the previous window's count by how much of it still
    overlaps, which closes that gap for one more GET inside the same script (still one round
    trip), and its keys expire on their own.

    Failing open: when Redis cannot answer (unreachable, timed out, an error reply, or not
    configured at all) the request is allowed, with a warning and a `RateLimitUnavailable`
    metric. The limit protects compute from one greedy client, while an outage of the limiter
    failing closed would stop every generation for everyone; the metric makes such an outage
    visible (alarm on it) instead of silent.
    """

    def __init__(self, settings: Settings, *, name: str, limit: int, window_seconds: int) -> None:
        self._settings = settings
        self._name = name
        self._limit = limit
        self._window_seconds = window_seconds
        self.prefix = f"{KEY_PREFIX}:{name}"

    def check(self, identifier: str) -> RateDecision:
        """Count one request of `identifier` in Redis and decide (allowed if Redis fails)."""
        # Imported on use: httpx and the Upstash SDKs would slow every cold start otherwise.
        import httpx
        from upstash_ratelimit import Ratelimit, SlidingWindow
        from upstash_redis.errors import UpstashError

        try:
            limiter = Ratelimit(
                redis=upstash_redis_client(self._settings),
                limiter=SlidingWindow(
                    max_requests=self._limit, window=self._window_seconds, unit="s"
                ),
                prefix=self.prefix,
            )
            response = limiter.limit(identifier)
        except (
            httpx.HTTPError,
            # What a proxy's HTML error page, in place of the REST API's JSON, raises.
            json.JSONDecodeError,
            UpstashError,
            RedisNotConfiguredError,
        ) as exc:
            logger.warning(
                "rate limit unavailable; letting the request through",
                extra={"limit": self._name, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            count_metric("RateLimitUnavailable", limit=self._name)
            return ALLOWED
        if response.allowed:
            return ALLOWED
        # `reset` is when the current window turns; the previous window's weight then starts to
        # fall, so a retry from then on has room for at least one request.
        return RateDecision(
            allowed=False, retry_after_seconds=seconds_until(response.reset, time.time())
        )


def seconds_until(reset_at: float, now: float) -> int:
    """Whole seconds from `now` until `reset_at`, rounded up and at least 1.

    Retry-After counts whole seconds; rounding down would send the client back just before the
    window turns, to be refused again.
    """
    return max(1, math.ceil(reset_at - now))


def generate_limiter(settings: Settings) -> RateLimiter:
    """The per-client limit on starting generations that `settings` configure."""
    if settings.generate_rate_limit == 0:
        return NoLimit()
    return UpstashRateLimiter(
        settings,
        name="generate",
        limit=settings.generate_rate_limit,
        window_seconds=settings.generate_rate_window_seconds,
    )


def client_identity(headers: Mapping[str, str], context: Mapping[str, Any]) -> str:
    """Who is asking: the request's source IP, else "anonymous".

    `headers` must look names up case-insensitively (Chalice's request headers do), and
    `context` is the API Gateway request context. API Gateway sets `identity.sourceIp` from the
    connection, so a caller cannot choose it; X-Forwarded-For's first entry can be anything the
    caller sends, so it is used only when the source is a loopback proxy (the local stack), and
    only when it is an IP address (anything else would let a caller mint keys of any shape).
    """
    identity = context.get("identity")
    source_ip = (
        _address(str(identity.get("sourceIp") or "")) if isinstance(identity, Mapping) else None
    )
    if source_ip is not None and not ipaddress.ip_address(source_ip).is_loopback:
        return source_ip
    forwarded = _address((headers.get("x-forwarded-for") or "").split(",")[0])
    return forwarded or source_ip or ANONYMOUS


def _address(text: str) -> str | None:
    """`text` as one canonical IP address, or None when it is not one."""
    try:
        return ipaddress.ip_address(text.strip()).compressed
    except ValueError:
        return None
