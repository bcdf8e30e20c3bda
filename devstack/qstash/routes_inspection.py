"""Routes that look back at what happened: the dead-letter queue and the event log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from devstack.qstash.errors import found
from devstack.qstash.http_input import IdList, caller_ip, read_json, validate
from devstack.qstash.listing import FieldValues, paginate, select
from devstack.qstash.options import parse_delivery_options
from devstack.qstash.publishing import Published, PublishRequest
from devstack.qstash.records import DlqEntry, LogEvent, MessageState
from devstack.qstash.services import SERVICES
from devstack.qstash.wire_format import dlq_json, log_json

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.Response]]

DLQ_PAGE = 100
LOG_PAGE, LOG_MAX_PAGE = 100, 1000
IN_PROGRESS_STATES = {MessageState.ACTIVE, MessageState.RETRY, MessageState.ERROR}

DLQ_FILTERS: dict[str, FieldValues[DlqEntry]] = {
    "messageId": lambda entry: [entry.message.message_id],
    "url": lambda entry: [entry.message.url],
    "topicName": lambda entry: [entry.message.topic_name],
    "queueName": lambda entry: [entry.message.queue_name],
    "scheduleId": lambda entry: [entry.message.schedule_id],
    "callerIp": lambda entry: [entry.message.caller_ip],
    "callerIP": lambda entry: [entry.message.caller_ip],
    "label": lambda entry: entry.message.options.labels,
    "responseStatus": lambda entry: [str(entry.response.status if entry.response else 0)],
}


def _log_states(event: LogEvent) -> list[str]:
    """The state names an event matches: its own, the other spelling, and IN_PROGRESS."""
    names = [event.state.value]
    if event.state is MessageState.CANCELLED:
        names.append("CANCELED")
    if event.state in IN_PROGRESS_STATES:
        names.append("IN_PROGRESS")
    return names


LOG_FILTERS: dict[str, FieldValues[LogEvent]] = {
    "messageId": lambda event: [event.message.message_id],
    "messageIds": lambda event: [event.message.message_id],
    "state": _log_states,
    "url": lambda event: [event.message.url],
    "topicName": lambda event: [event.message.topic_name],
    "queueName": lambda event: [event.message.queue_name],
    "scheduleId": lambda event: [event.message.schedule_id],
    "label": lambda event: event.message.options.labels,
}


@routes.get("/v2/dlq")
async def list_dlq(request: web.Request) -> web.Response:
    """DLQ entries, newest first, filtered and paginated."""
    store = request.app[SERVICES].store
    entries = select(
        reversed(store.dlq.values()), request.query, DLQ_FILTERS, lambda e: e.failed_at
    )
    page, cursor = paginate(
        entries, lambda e: e.seq, request.query, default_count=DLQ_PAGE, max_count=DLQ_PAGE
    )
    answer: dict[str, object] = {"messages": [dlq_json(entry) for entry in page]}
    if cursor is not None:
        answer["cursor"] = cursor
    return web.json_response(answer)


def _dlq_entry(request: web.Request) -> DlqEntry:
    return found(request.app[SERVICES].store.dlq, request.match_info["dlq_id"], "dlq message")


@routes.get("/v2/dlq/{dlq_id}")
async def get_dlq(request: web.Request) -> web.Response:
    """One DLQ entry."""
    return web.json_response(dlq_json(_dlq_entry(request)))


@routes.delete("/v2/dlq/{dlq_id}")
async def delete_dlq(request: web.Request) -> web.Response:
    """Remove one DLQ entry."""
    entry = _dlq_entry(request)
    del request.app[SERVICES].store.dlq[entry.dlq_id]
    return web.Response(status=200)


async def _chosen_entries(request: web.Request) -> list[DlqEntry]:
    """The entries named in `dlqIds` (body or query), else those matching the filters."""
    store = request.app[SERVICES].store
    listed = validate(IdList, await read_json(request) or {}).dlq_ids
    if listed is None and "dlqIds" in request.query:
        listed = request.query.getall("dlqIds")
    if listed is not None:
        return [store.dlq[dlq_id] for dlq_id in listed if dlq_id in store.dlq]
    return select(list(store.dlq.values()), request.query, DLQ_FILTERS, lambda e: e.failed_at)


@routes.delete("/v2/dlq")
async def delete_dlq_entries(request: web.Request) -> web.Response:
    """Remove several DLQ entries."""
    store = request.app[SERVICES].store
    chosen = await _chosen_entries(request)
    for entry in chosen:
        del store.dlq[entry.dlq_id]
    return web.json_response({"deleted": len(chosen)})


def _retry(request: web.Request, entry: DlqEntry) -> Published:
    """Publish the failed message again (request headers may override its settings)."""
    services = request.app[SERVICES]
    message = entry.message
    published = services.publisher.publish(
        PublishRequest(
            destination=message.url,
            body=message.body,
            options=parse_delivery_options(request.headers, message.options.for_redelivery()),
            caller_ip=caller_ip(request),
            queue_name=message.queue_name,
        )
    )
    del services.store.dlq[entry.dlq_id]
    return published


@routes.post("/v2/dlq/retry/{dlq_id}")
async def retry_dlq(request: web.Request) -> web.Response:
    """Deliver one DLQ message again as a new message."""
    return web.json_response(_retry(request, _dlq_entry(request)).json(), status=201)


@routes.post("/v2/dlq/retry")
async def retry_dlq_entries(request: web.Request) -> web.Response:
    """Deliver several DLQ messages again."""
    chosen = await _chosen_entries(request)
    responses = [_retry(request, entry).json() for entry in chosen]
    return web.json_response({"responses": responses}, status=201)


def _log_listing(field: str, cancelled_spelling: str) -> Handler:
    """The log listing, named and spelled the SDK's way or the spec's way."""

    async def list_log(request: web.Request) -> web.Response:
        store = request.app[SERVICES].store
        events = select(reversed(store.events), request.query, LOG_FILTERS, lambda e: e.time)
        page, cursor = paginate(
            events, lambda e: e.seq, request.query, default_count=LOG_PAGE, max_count=LOG_MAX_PAGE
        )
        answer: dict[str, object] = {
            field: [log_json(event, cancelled_spelling=cancelled_spelling) for event in page]
        }
        if cursor is not None:
            answer["cursor"] = cursor
        return web.json_response(answer)

    return list_log


# The SDK reads `GET /v2/events` → `events`; the spec documents `GET /v2/logs` → `logs`.
routes.get("/v2/events")(_log_listing("events", cancelled_spelling="CANCELED"))
routes.get("/v2/logs")(_log_listing("logs", cancelled_spelling="CANCELLED"))
