"""The aiohttp application: Upstash's REST routes in front of a `Backend`."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from devstack.redis_rest.backend import Backend, BackendUnavailable, select_backend
from devstack.redis_rest.command_policy import refusal
from devstack.redis_rest.config import RedisRestConfig
from devstack.redis_rest.encoding import ENCODING_HEADER, outcome_body, wants_base64
from devstack.redis_rest.replies import Reply, ReplyError, discarded_transaction
from devstack.redis_rest.request_body import (
    Command,
    MalformedRequest,
    command_from_path,
    parse_batch_body,
    parse_command_body,
)
from devstack.redis_rest.sync_token import SYNC_TOKEN_HEADER, SyncTokenClock

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _base64_requested(request: web.Request) -> bool:
    return wants_base64(request.headers.get(ENCODING_HEADER))


class RedisRestRoutes:
    """Request handlers sharing one backend, one token check and one sync-token clock."""

    def __init__(self, config: RedisRestConfig, backend: Backend) -> None:
        self._expected_authorization = f"Bearer {config.token}".encode()
        self._backend = backend
        self._clock = SyncTokenClock()

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the bearer token and turn every failure into a JSON `{"error"}` answer."""
        authorization = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(authorization, self._expected_authorization):
            return _error_response(401, "Unauthorized: missing or invalid bearer token")
        try:
            return await handler(request)
        except MalformedRequest as exc:
            return _error_response(400, exc.message)
        except BackendUnavailable as exc:
            return _error_response(503, f"ERR {exc}")
        except web.HTTPException as exc:
            return _error_response(exc.status, f"ERR {exc.reason}")
        except Exception:
            logger.exception(
                "redis-rest: unexpected failure for %s %s", request.method, request.path
            )
            return _error_response(500, "ERR internal error in the local Redis REST endpoint")

    def _respond(
        self, body: object, executed: Sequence[Command], status: int = 200
    ) -> web.Response:
        headers = {SYNC_TOKEN_HEADER: self._clock.after(executed)}
        return web.json_response(body, status=status, headers=headers)

    async def _answer_one(self, request: web.Request, command: Command) -> web.Response:
        reason = refusal(command)
        if reason is not None:
            reply: Reply = ReplyError(reason)
            executed: list[Command] = []
        else:
            reply = await self._backend.execute(command)
            executed = [command]
        body = outcome_body(reply, base64_strings=_base64_requested(request))
        return self._respond(body, executed, status=400 if isinstance(reply, ReplyError) else 200)

    async def single(self, request: web.Request) -> web.Response:
        """`POST /`: one command as a JSON array."""
        return await self._answer_one(request, parse_command_body(await request.read()))

    async def path_form(self, request: web.Request) -> web.Response:
        """`GET|POST /set/key/value`: one command spelled in the path."""
        command = command_from_path(
            request.rel_url.raw_path, request.rel_url.query.items(), await request.read()
        )
        return await self._answer_one(request, command)

    def _answer_batch(
        self, request: web.Request, replies: Sequence[Reply], executed: Sequence[Command]
    ) -> web.Response:
        base64_strings = _base64_requested(request)
        body = [outcome_body(reply, base64_strings=base64_strings) for reply in replies]
        return self._respond(body, executed)

    def _unavailable_batch(
        self, count: int, error: BackendUnavailable, attempted: Sequence[Command]
    ) -> web.Response:
        # One error per command rather than a single top-level one: the SDK iterates a batch
        # answer as a list and would fail on an object instead of raising UpstashError.
        body = [{"error": f"ERR {error}"} for _ in range(count)]
        return self._respond(body, attempted, status=503)

    async def pipeline(self, request: web.Request) -> web.Response:
        """`POST /pipeline`: commands run in order, each answering its own result or error."""
        commands = parse_batch_body(await request.read())
        refusals = [refusal(command) for command in commands]
        runnable = [
            command for command, reason in zip(commands, refusals, strict=True) if reason is None
        ]
        try:
            ran = iter(await self._backend.pipeline(runnable))
        except BackendUnavailable as exc:
            return self._unavailable_batch(len(commands), exc, runnable)
        replies = [ReplyError(reason) if reason is not None else next(ran) for reason in refusals]
        return self._answer_batch(request, replies, runnable)

    async def multi_exec(self, request: web.Request) -> web.Response:
        """`POST /multi-exec`: commands run atomically, or none of them when one is refused."""
        commands = parse_batch_body(await request.read())
        rejections = [
            None if reason is None else ReplyError(reason) for reason in map(refusal, commands)
        ]
        if any(rejections):
            return self._answer_batch(request, discarded_transaction(rejections), [])
        try:
            replies = await self._backend.transaction(commands)
        except BackendUnavailable as exc:
            return self._unavailable_batch(len(commands), exc, commands)
        return self._answer_batch(request, replies, commands)


def create_app(
    config: RedisRestConfig | None = None, backend: Backend | None = None
) -> web.Application:
    """The Upstash-REST-compatible Redis endpoint as an aiohttp application.

    `backend` defaults to `select_backend(config)`; either way the application owns it and closes
    its connections on cleanup, so a backend serves exactly one application.
    """
    if config is None:
        config = RedisRestConfig()
    if backend is None:
        backend = select_backend(config)
    routes = RedisRestRoutes(config, backend)
    app = web.Application(middlewares=[routes.guard])
    app.router.add_post("/", routes.single)
    app.router.add_post("/pipeline", routes.pipeline)
    app.router.add_post("/multi-exec", routes.multi_exec)
    app.router.add_get("/{command:.+}", routes.path_form, allow_head=False)
    app.router.add_post("/{command:.+}", routes.path_form)

    async def close_backend(_: web.Application) -> None:
        await backend.close()

    app.on_cleanup.append(close_backend)
    return app
