"""Routes for the long-lived resources: schedules, queues, URL groups and signing keys."""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from devstack.qstash.cron import CronExpression
from devstack.qstash.errors import bad_request, found
from devstack.qstash.http_input import (
    EndpointsBody,
    QueueUpsert,
    caller_ip,
    raw_destination,
    read_json,
    validate,
)
from devstack.qstash.options import parse_delivery_options, require_http_url, require_name
from devstack.qstash.publishing import PublishRequest
from devstack.qstash.records import Endpoint, QueueState, Schedule, UrlGroup, new_id
from devstack.qstash.services import SERVICES
from devstack.qstash.wire_format import queue_json, schedule_json, url_group_json

routes = web.RouteTableDef()
# The SDK pauses and resumes schedules with PATCH, the spec (and the SDK for queues) with POST.
TOGGLE_METHODS = ("POST", "PATCH")


def _schedule(request: web.Request) -> Schedule:
    return found(
        request.app[SERVICES].store.schedules, request.match_info["schedule_id"], "schedule"
    )


async def _toggle_schedule(request: web.Request) -> web.Response:
    """Pause or resume a schedule, as the last path segment says."""
    _schedule(request).paused = request.path.endswith("/pause")
    return web.Response(status=200)


for _method in TOGGLE_METHODS:
    # Registered before the catch-all create route so `{id}/pause` is never taken for a URL.
    routes.route(_method, "/v2/schedules/{schedule_id}/pause")(_toggle_schedule)
    routes.route(_method, "/v2/schedules/{schedule_id}/resume")(_toggle_schedule)


@routes.post("/v2/schedules/{destination:.+}")
async def create_schedule(request: web.Request) -> web.Response:
    """Create or replace a schedule that publishes the request body on a cron."""
    services = request.app[SERVICES]
    cron_text = request.headers.get("Upstash-Cron")
    if cron_text is None:
        raise bad_request("Upstash-Cron header is required")
    try:
        cron = CronExpression(cron_text)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    schedule_id = request.headers.get("Upstash-Schedule-Id") or new_id("scd")
    queue_name = request.headers.get("Upstash-Queue-Name")
    schedule = services.scheduler.upsert(
        require_name(schedule_id, "schedule id"),
        cron,
        PublishRequest(
            destination=raw_destination(request, "/v2/schedules/"),
            body=await request.read(),
            options=parse_delivery_options(request.headers),
            caller_ip=caller_ip(request),
            queue_name=queue_name,
        ),
    )
    return web.json_response({"scheduleId": schedule.schedule_id})


@routes.get("/v2/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    """Every schedule."""
    schedules = request.app[SERVICES].store.schedules.values()
    return web.json_response([schedule_json(schedule) for schedule in schedules])


@routes.get("/v2/schedules/{schedule_id}")
async def get_schedule(request: web.Request) -> web.Response:
    """One schedule."""
    return web.json_response(schedule_json(_schedule(request)))


@routes.delete("/v2/schedules/{schedule_id}")
async def delete_schedule(request: web.Request) -> web.Response:
    """Delete a schedule; messages it already published are not affected."""
    schedule = _schedule(request)
    del request.app[SERVICES].store.schedules[schedule.schedule_id]
    return web.Response(status=200)


def _queue(request: web.Request) -> QueueState:
    return found(request.app[SERVICES].store.queues, request.match_info["queue_name"], "queue")


@routes.post("/v2/queues")
async def upsert_queue(request: web.Request) -> web.Response:
    """Create a queue or change its parallelism and paused flag."""
    body = validate(QueueUpsert, await read_json(request))
    request.app[SERVICES].engine.upsert_queue(
        require_name(body.queue_name, "queue name"),
        parallelism=body.parallelism,
        paused=body.paused,
    )
    return web.Response(status=200)


@routes.get("/v2/queues")
async def list_queues(request: web.Request) -> web.Response:
    """Every queue."""
    queues = request.app[SERVICES].store.queues.values()
    return web.json_response([queue_json(queue) for queue in queues])


@routes.get("/v2/queues/{queue_name}")
async def get_queue(request: web.Request) -> web.Response:
    """One queue."""
    return web.json_response(queue_json(_queue(request)))


@routes.delete("/v2/queues/{queue_name}")
async def delete_queue(request: web.Request) -> web.Response:
    """Delete a queue, cancelling the messages still waiting in it."""
    request.app[SERVICES].engine.delete_queue(_queue(request))
    return web.Response(status=200)


async def _toggle_queue(request: web.Request) -> web.Response:
    """Pause or resume a queue, as the last path segment says."""
    queue = _queue(request)
    request.app[SERVICES].engine.upsert_queue(
        queue.name, parallelism=queue.parallelism, paused=request.path.endswith("/pause")
    )
    return web.Response(status=200)


for _method in TOGGLE_METHODS:
    routes.route(_method, "/v2/queues/{queue_name}/pause")(_toggle_queue)
    routes.route(_method, "/v2/queues/{queue_name}/resume")(_toggle_queue)


def _url_group(request: web.Request) -> UrlGroup:
    return found(
        request.app[SERVICES].store.url_groups, request.match_info["group_name"], "url group"
    )


@routes.post("/v2/topics/{group_name}/endpoints")
async def upsert_endpoints(request: web.Request) -> web.Response:
    """Add endpoints to a URL group (created if new); a known name or URL is updated."""
    store = request.app[SERVICES].store
    name = require_name(request.match_info["group_name"], "url group name")
    endpoints = validate(EndpointsBody, await read_json(request)).endpoints
    now = time.time()
    group = store.url_groups.get(name) or UrlGroup(name=name, created_at=now, updated_at=now)
    for endpoint in endpoints:
        if endpoint.url is None:
            raise bad_request("every endpoint needs a url")
        url = require_http_url(endpoint.url, "endpoint url")
        same = next(
            (
                known
                for known in group.endpoints
                if (endpoint.name is not None and known.name == endpoint.name) or known.url == url
            ),
            None,
        )
        if same is None:
            group.endpoints.append(Endpoint(url=url, name=endpoint.name))
        else:
            same.url, same.name = url, endpoint.name or same.name
    group.updated_at = now
    store.url_groups[name] = group
    return web.Response(status=200)


@routes.delete("/v2/topics/{group_name}/endpoints")
async def remove_endpoints(request: web.Request) -> web.Response:
    """Remove endpoints by URL or name; a group left empty is deleted."""
    store = request.app[SERVICES].store
    group = _url_group(request)
    removed = validate(EndpointsBody, await read_json(request)).endpoints
    group.endpoints = [
        known
        for known in group.endpoints
        if not any(
            (gone.url is not None and gone.url == known.url)
            or (gone.name is not None and gone.name == known.name)
            for gone in removed
        )
    ]
    group.updated_at = time.time()
    if not group.endpoints:
        del store.url_groups[group.name]
    return web.Response(status=200)


@routes.get("/v2/topics")
async def list_url_groups(request: web.Request) -> web.Response:
    """Every URL group."""
    groups = request.app[SERVICES].store.url_groups.values()
    return web.json_response([url_group_json(group) for group in groups])


@routes.get("/v2/topics/{group_name}")
async def get_url_group(request: web.Request) -> web.Response:
    """One URL group."""
    return web.json_response(url_group_json(_url_group(request)))


@routes.delete("/v2/topics/{group_name}")
async def delete_url_group(request: web.Request) -> web.Response:
    """Delete a URL group and its endpoints."""
    group = _url_group(request)
    del request.app[SERVICES].store.url_groups[group.name]
    return web.Response(status=200)


@routes.get("/v2/keys")
async def get_signing_keys(request: web.Request) -> web.Response:
    """The current and next signing keys."""
    store = request.app[SERVICES].store
    return web.json_response({"current": store.current_signing_key, "next": store.next_signing_key})


@routes.post("/v2/keys/rotate")
async def rotate_signing_keys(request: web.Request) -> web.Response:
    """Promote the next key to current and draw a new next key."""
    store = request.app[SERVICES].store
    store.current_signing_key = store.next_signing_key
    store.next_signing_key = f"sig_{secrets.token_urlsafe(21)}"
    return web.json_response({"current": store.current_signing_key, "next": store.next_signing_key})
