"""Run an effect once per key, with Powertools' idempotency utility over Upstash Redis.

QStash and the job queue deliver at least once, so every consumer wraps its effect in `run_once`.
Powertools keeps the state machine (in progress, completed with the stored result, orphan
records after a crash); `UpstashIdempotencyClient` is the small adapter its cache persistence
layer needs, because `upstash_redis.Redis.set` names its first parameter `key`, not `name`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from upstash_redis import Redis

    from chalicelib.settings import Settings

KEY_PREFIX = "longhaul:once"
# How long a completed effect is remembered: longer than QStash's and the job queue's retries.
DEFAULT_REMEMBER_SECONDS = 24 * 3600


class StillRunningError(RuntimeError):
    """Another delivery with the same key is running the effect now: try again later."""


class OnceResult(BaseModel):
    """What `run_once` returned: the effect's result, and whether this call was a duplicate."""

    value: dict[str, Any] | None
    duplicate: bool


class UpstashIdempotencyClient:
    """The get/set/delete client Powertools' cache layer calls, over the Upstash REST SDK.

    `set(..., nx=True)` is sent as `SET NX GET`: when the key exists, Redis answers its value in
    the same round trip, and the `get`s Powertools makes next (it reads the record twice on a
    duplicate) are served from that answer. A duplicate delivery therefore costs one round trip,
    a first delivery two (claim, then result).
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._seen: dict[str, str] = {}

    def get(self, name: bytes | str | memoryview) -> str | None:
        """The stored record, from the last `SET NX GET` when it answered one."""
        key = _text(name)
        # Kept, not popped: every read Powertools makes follows a `SET NX` of the same key in the
        # same call, which refreshes or drops this answer, so it is never stale when served.
        if key in self._seen:
            return self._seen[key]
        value = self._redis.get(key)
        return None if value is None else str(value)

    def set(
        self,
        name: str | bytes,
        value: bytes | float | str,
        ex: float | timedelta | None = None,
        px: float | timedelta | None = None,
        nx: bool = False,
    ) -> bool | None:
        """SET, with NX answered as True when set and None when the key already existed."""
        key = _text(name)
        command: list[Any] = ["SET", key, _text(value)]
        if ex is not None:
            command += ["EX", int(ex.total_seconds() if isinstance(ex, timedelta) else ex)]
        elif px is not None:
            command += ["PX", int(px.total_seconds() * 1000 if isinstance(px, timedelta) else px)]
        if not nx:
            self._seen.pop(key, None)
            self._redis.execute(command)
            return True
        existing = self._redis.execute([*command, "NX", "GET"])
        if existing is None:
            self._seen.pop(key, None)
            return True
        self._seen[key] = str(existing)
        return None

    def delete(self, *names: bytes | str | memoryview) -> int:
        """DEL the records (Powertools deletes the in-progress record when the effect raised)."""
        for name in names:
            self._seen.pop(_text(name), None)
        return int(self._redis.delete(*(_text(name) for name in names)))


def _text(value: Any) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    return value.decode() if isinstance(value, bytes) else str(value)


def persistence_layer(redis: Redis) -> BasePersistenceLayer:
    """Powertools' cache persistence layer over `redis` (an `upstash_redis.Redis`)."""
    from aws_lambda_powertools.utilities.idempotency.persistence.cache import (
        CachePersistenceLayer,
    )

    return CachePersistenceLayer(client=UpstashIdempotencyClient(redis))


def settings_persistence(settings: Settings) -> BasePersistenceLayer:
    """The persistence layer for the configured Upstash Redis."""
    from chalicelib.redis_client import upstash_redis_client

    return persistence_layer(upstash_redis_client(settings))


class _OnceKey(BaseModel):
    key: str


def run_once(
    key: str,
    effect: Callable[[], dict[str, Any] | None],
    *,
    persistence: BasePersistenceLayer,
    remember_seconds: int = DEFAULT_REMEMBER_SECONDS,
    lambda_context: LambdaContext | None = None,
) -> OnceResult:
    """Run `effect` unless an earlier call with `key` completed it; then return its stored result.

    Raises `StillRunningError` while another call with `key` is in progress. An effect that
    raises leaves no record, so a retry runs it again. With `lambda_context`, a call that dies
    mid-effect stops blocking retries when its Lambda would have timed out.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    replayed = False

    def on_replay(response: Any, idempotent_data: DataRecord) -> Any:
        nonlocal replayed
        replayed = True
        return response

    config = IdempotencyConfig(
        event_key_jmespath="key",
        expires_after_seconds=remember_seconds,
        response_hook=on_replay,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
        data_keyword_argument="once",
        persistence_store=persistence,
        config=config,
        key_prefix=KEY_PREFIX,
    )
    def guarded(once: _OnceKey) -> dict[str, Any] | None:
        return effect()

    try:
        value = guarded(once=_OnceKey(key=key))
    except IdempotencyAlreadyInProgressError as exc:
        raise StillRunningError(f"an effect for {key!r} is already running") from exc
    return OnceResult(value=value, duplicate=replayed)
