"""Routes that create and manage messages: publish, enqueue, batch, get and cancel."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from multidict import CIMultiDict

from devstack.qstash.errors import bad_request, found
from devstack.qstash.http_input import (
    BatchItem,
    IdList,
    caller_ip,
    raw_destination,
    read_json,
    validate,
)
from devstack.qstash.listing import FieldValues, query_int, select
from devstack.qstash.options import parse_delivery_options
from devstack.qstash.publishing import Published, PublishRequest
from devstack.qstash.records import Message
from devstack.qstash.services import SERVICES
from devstack.qstash.wire_format import message_json

routes = web.RouteTableDef()

MESSAGE_FILTERS: dict[str, FieldValues[Message]] = {
    "messageIds": lambda message: [message.message_id],
    "url": lambda message: [message.url],
    "topicName": lambda message: [message.topic_name],
    "queueName": lambda message: [message.queue_name],
    "scheduleId": lambda message: [message.schedule_id],
    "callerIp": lambda message: [message.caller_ip],
    "callerIP": lambda message: [message.caller_ip],
    "label": lambda message: message.options.labels,
    "flowControlKey": lambda message: [
        message.options.flow_control.key if message.options.flow_control else None
    ],
}


def published_response(results: Iterable[Published], *, single: bool) -> web.Response:
    """200 with the new message ids; 202 when every message was a deduplicated repeat."""
    outcomes = list(results)
    status = 202 if outcomes and all(outcome.deduplicated for outcome in outcomes) else 200
    if single:
        return web.json_response(outcomes[0].json(), status=status)
    return web.json_response([outcome.json() for outcome in outcomes], status=status)


@routes.post("/v2/publish/{destination:.+}")
async def publish(request: web.Request) -> web.Response:
    """Publish the request body to a URL or URL group."""
    services = request.app[SERVICES]
    publish_request = PublishRequest(
        destination=raw_destination(request, "/v2/publish/"),
        body=await request.read(),
        options=parse_delivery_options(request.headers),
        caller_ip=caller_ip(request),
    )
    return published_response([services.publisher.publish(publish_request)], single=True)


@routes.post("/v2/enqueue/{queue}/{destination:.+}")
async def enqueue(request: web.Request) -> web.Response:
    """Publish the request body through a FIFO queue (created on first use)."""
    services = request.app[SERVICES]
    queue_and_destination = raw_destination(request, "/v2/enqueue/")
    queue_name, _, destination = queue_and_destination.partition("/")
    publish_request = PublishRequest(
        destination=destination,
        body=await request.read(),
        options=parse_delivery_options(request.headers),
        caller_ip=caller_ip(request),
        queue_name=queue_name,
    )
    return published_response([services.publisher.publish(publish_request)], single=True)


@routes.post("/v2/batch")
async def batch(request: web.Request) -> web.Response:
    """Publish several messages at once; nothing is accepted unless every item is valid."""
    services = request.app[SERVICES]
    items = validate(list[BatchItem], await read_json(request))
    if not items:
        raise bad_request("a batch needs at least one message")
    prepared = [
        services.publisher.prepare(
            PublishRequest(
                destination=item.destination,
                body=(item.body or "").encode(),
                options=parse_delivery_options(CIMultiDict(item.headers)),
                caller_ip=caller_ip(request),
                queue_name=item.queue,
            )
        )
        for item in items
    ]
    return published_response([services.publisher.accept(each) for each in prepared], single=False)


def _message(request: web.Request) -> Message:
    return found(request.app[SERVICES].store.messages, request.match_info["message_id"], "message")


@routes.get("/v2/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    """A message that is still waiting or being retried."""
    return web.json_response(message_json(_message(request)))


@routes.delete("/v2/messages/{message_id}")
async def cancel_message(request: web.Request) -> web.Response:
    """Cancel one pending message."""
    request.app[SERVICES].engine.cancel(_message(request))
    return web.Response(status=200)


@routes.delete("/v2/messages")
async def cancel_messages(request: web.Request) -> web.Response:
    """Cancel the listed messages, those matching the filters, or all of them."""
    services = request.app[SERVICES]
    listed = validate(IdList, await read_json(request) or {}).message_ids
    if listed is not None:
        targets = [services.store.messages[i] for i in listed if i in services.store.messages]
    else:
        targets = select(
            services.store.messages.values(),
            request.query,
            MESSAGE_FILTERS,
            lambda message: message.created_at,
        )
    limit = query_int(request.query, "count")
    for message in targets[:limit]:
        services.engine.cancel(message)
    return web.json_response({"cancelled": len(targets[:limit])})
