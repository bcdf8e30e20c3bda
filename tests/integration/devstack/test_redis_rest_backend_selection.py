"""Which Redis the endpoint forwards to, and what it says about it."""

from __future__ import annotations

import time

import pytest
import redis.asyncio
from pydantic import ValidationError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from devstack.redis_rest import (
    DEFAULT_REDIS_URL,
    DEFAULT_TOKEN,
    EMBEDDED_DESCRIPTION,
    Backend,
    BackendUnavailable,
    RedisRestConfig,
    create_app,
    select_backend,
)
from devstack.service import BackgroundServer

pytestmark = pytest.mark.timeout(20)

# Nothing listens on port 1, so connecting is refused at once.
UNREACHABLE_URL = "redis://127.0.0.1:1/0"


def _serve(config: RedisRestConfig, backend: Backend) -> BackgroundServer:
    return BackgroundServer(lambda: create_app(config, backend)).start()


@pytest.fixture
def unreachable_backend() -> Backend:
    """A backend whose Redis has gone away since start-up (the app it is given closes it)."""
    pool = redis.asyncio.ConnectionPool.from_url(UNREACHABLE_URL, retry=Retry(NoBackoff(), 0))
    return Backend(pool, "redis", f"redis at {UNREACHABLE_URL}")


def test_auto_falls_back_to_the_embedded_redis_and_says_why() -> None:
    config = RedisRestConfig(redis_url=UNREACHABLE_URL)
    started = time.monotonic()
    backend = select_backend(config)
    assert time.monotonic() - started < 2
    assert backend.kind == "embedded"
    assert backend.description == f"{EMBEDDED_DESCRIPTION} (no Redis answered at {UNREACHABLE_URL})"
    server = _serve(config, backend)
    try:
        with Redis(url=server.url, token=DEFAULT_TOKEN, rest_retries=0) as client:
            assert client.set("fallback", "works") is True
            assert client.get("fallback") == "works"
            assert client.eval("return redis.call('GET', KEYS[1])", ["fallback"]) == "works"
    finally:
        server.stop()


def test_requiring_the_real_redis_fails_fast_when_it_does_not_answer() -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"no Redis answered at redis://127\.0\.0\.1:1/0"):
        select_backend(RedisRestConfig(redis_url=UNREACHABLE_URL, backend="redis"))
    assert time.monotonic() - started < 2


def test_a_password_never_appears_in_the_description() -> None:
    url = "redis://worker:s3cret-pass@127.0.0.1:1/0"
    backend = select_backend(RedisRestConfig(redis_url=url))
    assert "s3cret-pass" not in backend.description
    assert "redis://worker:***@127.0.0.1:1/0" in backend.description


def test_auto_uses_the_real_redis_when_it_answers(real_redis_problem: str | None) -> None:
    if real_redis_problem is not None:
        pytest.skip(f"real-Redis backend not tested: {real_redis_problem}")
    config = RedisRestConfig()
    backend = select_backend(config)
    assert backend.kind == "redis"
    assert backend.description == f"redis at {config.redis_url}"
    _serve(config, backend).stop()  # the application owns and closes the backend's pool


def test_embedded_backends_do_not_share_data() -> None:
    config = RedisRestConfig(backend="embedded")
    first, second = _serve(config, select_backend(config)), _serve(config, select_backend(config))
    try:
        with (
            Redis(url=first.url, token=DEFAULT_TOKEN, rest_retries=0) as one,
            Redis(url=second.url, token=DEFAULT_TOKEN, rest_retries=0) as other,
        ):
            one.set("isolated", "first")
            assert other.get("isolated") is None
    finally:
        first.stop()
        second.stop()


def test_a_redis_that_goes_away_gives_503_errors(unreachable_backend: Backend) -> None:
    server = _serve(RedisRestConfig(), unreachable_backend)
    try:
        with Redis(url=server.url, token=DEFAULT_TOKEN, rest_retries=0) as client:
            with pytest.raises(UpstashError, match=r"^ERR redis at .* is unavailable"):
                client.get("anything")
            pipeline = client.pipeline()
            pipeline.get("anything")
            with pytest.raises(UpstashError, match="unavailable"):
                pipeline.exec()
    finally:
        server.stop()


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert RedisRestConfig().redis_url == DEFAULT_REDIS_URL
    assert RedisRestConfig().token == DEFAULT_TOKEN == "longhaul-local-redis-token"
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6380/2")
    assert RedisRestConfig().redis_url == "redis://elsewhere:6380/2"
    monkeypatch.setenv("REDIS_URL", "")
    assert RedisRestConfig().redis_url == DEFAULT_REDIS_URL
    for invalid in [
        {"redis_url": "http://127.0.0.1:6379"},
        {"redis_url": "redis://127.0.0.1:port/0"},
        {"token": ""},
        {"backend": "other"},
    ]:
        with pytest.raises(ValidationError):
            RedisRestConfig(**invalid)
