"""Assembling the aiohttp application: authentication, QStash-shaped errors, routes and the
background work that lives as long as the app."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from devstack.qstash import routes_inspection, routes_messages, routes_resources
from devstack.qstash.config import QStashServerConfig
from devstack.qstash.delivery import DeliveryEngine
from devstack.qstash.errors import ApiError
from devstack.qstash.http_input import AUTH_QUERY_PARAMETER
from devstack.qstash.publishing import Publisher
from devstack.qstash.scheduler import Scheduler
from devstack.qstash.services import SERVICES, Services
from devstack.qstash.store import QStashStore

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# QStash's largest message on paid plans; aiohttp's own default would be 1 MiB.
MAX_BODY_BYTES = 10 * 1024 * 1024


def create_app(config: QStashServerConfig | None = None) -> web.Application:
    """A QStash-compatible server as an aiohttp application (defaults: the dev credentials)."""
    config = config or QStashServerConfig()
    store = QStashStore(config.current_signing_key, config.next_signing_key)
    engine = DeliveryEngine(config, store)
    publisher = Publisher(config, store, engine)
    services = Services(
        config=config,
        store=store,
        engine=engine,
        publisher=publisher,
        scheduler=Scheduler(config, store, publisher),
    )
    app = web.Application(
        middlewares=[_errors_as_json, _require_token], client_max_size=MAX_BODY_BYTES
    )
    app[SERVICES] = services
    for module in (routes_messages, routes_inspection, routes_resources):
        app.add_routes(module.routes)
    app.cleanup_ctx.append(_background_work)
    return app


async def _background_work(app: web.Application) -> AsyncIterator[None]:
    """Run the delivery engine and the scheduler for as long as the app runs."""
    services = app[SERVICES]
    await services.engine.start()
    scheduler = asyncio.get_running_loop().create_task(services.scheduler.run())
    yield
    scheduler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await scheduler
    await services.engine.stop()


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as `{"error": "..."}`, the way QStash answers."""
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response({"error": exc.message}, status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        # Keep `Allow` (405); the JSON body replaces the exception's own content headers.
        kept = {name: exc.headers[name] for name in ("Allow",) if name in exc.headers}
        return web.json_response({"error": exc.reason}, status=exc.status, headers=kept)
    except Exception:
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal server error"}, status=500)


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only callers with a configured token (Bearer header or `qstash_token` query) get in."""
    tokens = request.app[SERVICES].config.tokens
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip() if scheme.lower() == "bearer" else ""
    if not credential:
        credential = request.query.get(AUTH_QUERY_PARAMETER, "").strip()
    if not any(hmac.compare_digest(credential.encode(), token.encode()) for token in tokens):
        raise ApiError(401, "Unauthorized: missing or invalid token")
    return await handler(request)
