"""The Redis that answers the endpoint's commands: a real server, or one embedded in-process.

Both are driven through redis-py's low-level connection API rather than its client methods, so
replies arrive as the RESP2 parser produced them (no response callbacks turning them into
Python types) and a transaction can own one connection from MULTI to EXEC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import fakeredis
import redis
import redis.asyncio
from redis.asyncio.connection import ConnectionPoolInterface
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry

from devstack.redis_rest.config import RedisRestConfig
from devstack.redis_rest.replies import Reply, ReplyError, discarded_transaction
from devstack.redis_rest.request_body import Command
from devstack.redis_rest.script_flags import ScriptFlagTranslator

BackendKind = Literal["redis", "embedded"]
EMBEDDED_DESCRIPTION = "embedded in-process Redis"

# RESP3 would hand back maps, doubles and sets that the REST API flattens to RESP2 shapes anyway.
_PROTOCOL = 2


class BackendUnavailable(RuntimeError):
    """The real Redis did not answer (at start-up when it was required, or for a request)."""


def redis_url_for_display(url: str) -> str:
    """`url` with any password replaced by `***`, fit for a start-up line or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    credentials = f"{parts.username or ''}:***"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def _error_message(error: ResponseError) -> str:
    # redis-py strips the codes it knows (ERR, NOSCRIPT, EXECABORT, ...) into `status_code` and
    # leaves the others (WRONGTYPE, ...) in the text; put them back to answer what Redis said.
    if error.status_code:
        return f"{error.status_code} {error}"
    return str(error)


def _as_reply(raw: object) -> Reply:
    if isinstance(raw, ResponseError):
        return ReplyError(_error_message(raw))
    if isinstance(raw, list):
        return [_as_reply(item) for item in raw]
    if raw is None or isinstance(raw, bytes | int):
        return raw
    raise TypeError(f"unexpected reply type from the RESP2 parser: {type(raw).__name__}")


class Backend:
    """A connection pool plus what it is, answering commands with raw replies."""

    def __init__(self, pool: ConnectionPoolInterface, kind: BackendKind, description: str) -> None:
        self._pool = pool
        self.kind: BackendKind = kind
        self.description = description
        self._scripts = ScriptFlagTranslator(drop_shebang=kind == "embedded")

    async def _exchange(self, commands: Sequence[Command]) -> list[Reply]:
        """Send `commands` in one write on one connection and read one reply for each."""
        try:
            connection = await self._pool.get_connection()
        except RedisError as exc:
            raise BackendUnavailable(f"{self.description} is unavailable: {exc}") from exc
        try:
            sent = [self._scripts.command(command) for command in commands]
            await connection.send_packed_command(connection.pack_commands(sent))
            replies: list[Reply] = []
            for _ in commands:
                try:
                    replies.append(_as_reply(await connection.read_response()))
                except ResponseError as error:
                    replies.append(ReplyError(_error_message(error)))
            return replies
        except RedisError as exc:
            await connection.disconnect()
            raise BackendUnavailable(f"{self.description} is unavailable: {exc}") from exc
        except BaseException:
            # A half-read conversation must not go back to the pool for the next request.
            await connection.disconnect()
            raise
        finally:
            await self._pool.release(connection)

    async def execute(self, command: Command) -> Reply:
        """The reply to one command."""
        (reply,) = await self.pipeline([command])
        return reply

    async def pipeline(self, commands: Sequence[Command]) -> list[Reply]:
        """The replies to `commands`, run in order but not atomically."""
        if not commands:
            return []
        replies = await self._exchange(commands)
        # SCRIPT LOAD answers the hash of the script as the client sent it, flags and all.
        return [
            sha if (sha := ScriptFlagTranslator.client_sha(c)) and isinstance(r, bytes) else r
            for c, r in zip(commands, replies, strict=True)
        ]

    async def transaction(self, commands: Sequence[Command]) -> list[Reply]:
        """The replies to `commands` run atomically between MULTI and EXEC on one connection.

        A command Redis refuses to queue discards the whole transaction (EXECABORT); a command
        that fails while EXEC runs answers its own error and the others still apply.
        """
        _, *queued, exec_reply = await self._exchange([(b"MULTI",), *commands, (b"EXEC",)])
        if isinstance(exec_reply, list):
            return exec_reply
        rejections = [reply if isinstance(reply, ReplyError) else None for reply in queued]
        if any(rejections):
            return discarded_transaction(rejections)
        # EXEC itself failed for a reason no single command caused: every command shares it.
        return [exec_reply for _ in commands]

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()


def probe_redis(url: str, timeout_seconds: float) -> str | None:
    """Why the Redis at `url` cannot be used (it did not answer a PING in time), or None."""
    client = redis.Redis.from_url(
        url,
        protocol=_PROTOCOL,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
    return None


def _real_backend(config: RedisRestConfig) -> Backend:
    pool = redis.asyncio.ConnectionPool.from_url(
        config.redis_url,
        protocol=_PROTOCOL,
        socket_connect_timeout=config.probe_timeout_seconds,
        socket_timeout=config.command_timeout_seconds,
        # A retried write could apply twice; a failure is reported to the caller instead.
        retry=AsyncRetry(NoBackoff(), 0),
    )
    return Backend(pool, "redis", f"redis at {redis_url_for_display(config.redis_url)}")


def embedded_backend(description: str = EMBEDDED_DESCRIPTION) -> Backend:
    """A fresh, empty in-process Redis (fakeredis, with Lua scripting through lupa)."""
    client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), protocol=_PROTOCOL)
    return Backend(client.connection_pool, "embedded", description)


def select_backend(config: RedisRestConfig) -> Backend:
    """The backend `config` asks for, probing the real Redis with a quick PING when it matters.

    Raises `BackendUnavailable` when `config.backend` is "redis" and it does not answer. No
    connection is kept: the returned backend connects lazily, inside the event loop that uses it.
    """
    if config.backend == "embedded":
        return embedded_backend()
    problem = probe_redis(config.redis_url, config.probe_timeout_seconds)
    if problem is None:
        return _real_backend(config)
    shown_url = redis_url_for_display(config.redis_url)
    if config.backend == "redis":
        raise BackendUnavailable(f"no Redis answered at {shown_url}: {problem}")
    return embedded_backend(f"{EMBEDDED_DESCRIPTION} (no Redis answered at {shown_url})")
