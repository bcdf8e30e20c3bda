"""A Lambda Function URL, locally: HTTP requests in, payload v2 events to a handler, answers out.

QStash reaches the deployed worker through a Function URL; locally this adapter gives the same
handler the same event shape, so the worker's code cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def _event(request: web.Request, body: bytes) -> dict[str, Any]:
    """The payload v2 event a Function URL would send for `request`."""
    content_type = request.headers.get("Content-Type", "")
    textual = any(content_type.startswith(t) for t in _TEXT_TYPES)
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "queryStringParameters": dict(request.query) or None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": request.host,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body.decode("utf-8") if textual else base64.b64encode(body).decode(),
        "isBase64Encoded": not textual,
    }


def _response(result: dict[str, Any]) -> web.Response:
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return web.Response(
        status=int(result.get("statusCode", 200)), headers=result.get("headers") or {}, body=raw
    )


def create_function_url_app(
    handler: LambdaHandler,
    *,
    function_name: str = "worker",
    memory_size: int = 1024,
    timeout_seconds: int = 900,
    max_concurrency: int = 16,
) -> web.Application:
    """An aiohttp app invoking `handler` once per request, like a Function URL with auth NONE.

    Invocations run in threads (up to `max_concurrency` at once, like reserved concurrency), each
    with a Lambda context whose remaining time counts down from `timeout_seconds`.
    """
    from chalice.local import LambdaContext

    executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix=function_name)

    async def invoke(request: web.Request) -> web.Response:
        event = _event(request, await request.read())
        context = LambdaContext(function_name, memory_size, timeout_seconds * 1000)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(executor, handler, event, context)
        except Exception as exc:  # a Function URL answers 502 when the function raises
            return web.json_response({"message": f"function error: {exc}"}, status=502)
        return _response(result)

    async def shutdown(app: web.Application) -> None:
        executor.shutdown(wait=False, cancel_futures=True)

    app = web.Application(client_max_size=6 * 1024 * 1024)  # the Function URL payload limit
    app.router.add_route("*", "/{tail:.*}", invoke)
    app.on_cleanup.append(shutdown)
    return app
