"""Fixtures for the Upstash-REST-compatible Redis endpoint, on both of its backends.

`redis_rest_server` is parametrised over the real Redis (skipped, with the reason, when none
answers) and the embedded one. Tests against the real Redis share its database with whoever
else uses it, so they only touch keys under their own `redis_key_prefix`, deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from upstash_redis import Redis

from devstack.redis_rest import (
    DEFAULT_TOKEN,
    RedisRestConfig,
    create_app,
    probe_redis,
    select_backend,
)
from devstack.redis_rest.config import redis_url_from_environment
from devstack.service import BackgroundServer

__all__ = [
    "RedisRestServer",
    "real_redis_problem",
    "redis_key_prefix",
    "redis_rest_http",
    "redis_rest_server",
    "redis_sdk_client",
]


@dataclass(frozen=True)
class RedisRestServer:
    """A running endpoint: where it listens, the token it wants and which backend serves it."""

    url: str
    token: str
    backend_kind: str
    backend_description: str


@pytest.fixture(scope="session")
def real_redis_problem() -> str | None:
    """Why the real Redis cannot be used in this session, or None when it answers."""
    url = redis_url_from_environment()
    problem = probe_redis(url, timeout_seconds=0.5)
    return None if problem is None else f"no Redis answered at {url}: {problem}"


@pytest.fixture(params=["redis", "embedded"])
def redis_rest_server(
    request: pytest.FixtureRequest, real_redis_problem: str | None
) -> Iterator[RedisRestServer]:
    """The endpoint on a free port, forwarding to the backend named by the parameter."""
    kind = request.param
    if kind == "redis" and real_redis_problem is not None:
        pytest.skip(f"real-Redis backend not tested: {real_redis_problem}")
    config = RedisRestConfig(backend=kind)
    backend = select_backend(config)
    server = BackgroundServer(lambda: create_app(config, backend)).start()
    yield RedisRestServer(server.url, config.token, backend.kind, backend.description)
    server.stop()


@pytest.fixture
def redis_sdk_client(redis_rest_server: RedisRestServer) -> Iterator[Redis]:
    """The official SDK pointed at the endpoint (no retries: a failure shows at once)."""
    with Redis(
        url=redis_rest_server.url, token=DEFAULT_TOKEN, rest_retries=0, allow_telemetry=False
    ) as client:
        yield client


@pytest.fixture
def redis_rest_http(redis_rest_server: RedisRestServer) -> Iterator[httpx.Client]:
    """A plain HTTP client with the right token, for what the SDK cannot send or show."""
    with httpx.Client(
        base_url=redis_rest_server.url,
        headers={"Authorization": f"Bearer {redis_rest_server.token}"},
        timeout=5.0,
    ) as client:
        yield client


@pytest.fixture
def redis_key_prefix(redis_sdk_client: Redis) -> Iterator[str]:
    """A prefix no other test uses; every key under it is deleted after the test."""
    prefix = f"longhaul-test:{uuid.uuid4().hex}:"
    yield prefix
    cursor = 0
    while True:
        cursor, keys = redis_sdk_client.scan(cursor, match=f"{prefix}*", count=1000)
        if keys:
            redis_sdk_client.delete(*keys)
        if cursor == 0:
            break
