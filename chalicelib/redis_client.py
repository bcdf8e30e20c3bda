"""The Upstash Redis REST client, created on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from upstash_redis import Redis


class RedisNotConfiguredError(RuntimeError):
    """UPSTASH_REDIS_REST_URL or UPSTASH_REDIS_REST_TOKEN is missing."""


@lru_cache(maxsize=4)
def upstash_redis_client(settings: Settings) -> Redis:
    """A `upstash_redis.Redis` for `settings`, with a bounded HTTP timeout and no slow retry."""
    import httpx
    from upstash_redis import Redis

    if settings.upstash_redis_rest_url is None or settings.upstash_redis_rest_token is None:
        raise RedisNotConfiguredError("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN")
    client = Redis(
        url=settings.upstash_redis_rest_url,
        token=settings.upstash_redis_rest_token.get_secret_value(),
        # The SDK's own retry sleeps a fixed 3 s; callers decide how to retry (QStash redelivers).
        rest_retries=0,
        allow_telemetry=False,
    )
    # The SDK builds its httpx client with no timeout and offers no option for one (1.8.0).
    client._http._client = httpx.Client(timeout=settings.backend_timeout_seconds)
    return client
