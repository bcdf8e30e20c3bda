"""The JSON shapes of the API's responses and of callback bodies.

Where the official SDK and the OpenAPI spec name a field differently both names are written, so
that either kind of client finds what it reads.
"""

from __future__ import annotations

import base64
from typing import Any

from devstack.qstash.options import CallbackOptions, DeliveryOptions, Headers
from devstack.qstash.records import (
    AttemptResponse,
    DlqEntry,
    Endpoint,
    LogEvent,
    Message,
    MessageState,
    QueueState,
    Schedule,
    UrlGroup,
    millis,
)

Json = dict[str, Any]


def encode_base64(data: bytes) -> str:
    """Standard base64 text of `data`."""
    return base64.b64encode(data).decode("ascii")


def headers_json(headers: Headers) -> dict[str, list[str]]:
    """Headers as the API shows them: each name mapped to its list of values."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return grouped


def delivered_headers(options: DeliveryOptions) -> Headers:
    """The user headers that go to the destination: forwarded ones plus the Content-Type."""
    if options.content_type is None:
        return options.headers
    return (*options.headers, ("Content-Type", options.content_type))


def body_json(body: bytes, text_field: str, base64_field: str) -> Json:
    """`{text_field: text}` when the body is UTF-8, else `{base64_field: base64}`."""
    try:
        return {text_field: body.decode("utf-8")}
    except UnicodeDecodeError:
        return {base64_field: encode_base64(body)}


def message_json(message: Message) -> Json:
    """A message as `GET /v2/messages/{id}` returns it (also the base of DLQ entries)."""
    options = message.options
    rendered: Json = {
        "messageId": message.message_id,
        "url": message.url,
        "method": options.method,
        "header": headers_json(delivered_headers(options)),
        "maxRetries": options.retries,
        "notBefore": millis(message.due_at),
        "createdAt": millis(message.created_at),
        "callerIP": message.caller_ip,
        **body_json(message.body, "body", "bodyBase64"),
        **_optional_message_fields(message),
        **_callback_json(options.callback, "callback", "callbackHeader"),
        **_callback_json(options.failure_callback, "failureCallback", "failureCallbackHeader"),
        **_delivery_settings_json(options),
    }
    if options.timeout is not None:
        rendered["timeout"] = int(options.timeout)
    return rendered


def dlq_json(entry: DlqEntry) -> Json:
    """A DLQ entry: the failed message plus the last response it got."""
    rendered = message_json(entry.message)
    rendered["dlqId"] = entry.dlq_id
    response = entry.response
    rendered["responseStatus"] = response.status if response else 0
    if response is not None:
        rendered["responseHeader"] = headers_json(response.headers)
        rendered.update(body_json(response.body, "responseBody", "responseBodyBase64"))
    return rendered


def log_json(event: LogEvent, *, cancelled_spelling: str) -> Json:
    """One log event. `/v2/logs` (spec) spells `CANCELLED`; `/v2/events` (the SDK) `CANCELED`."""
    message = event.message
    options = message.options
    state = event.state.value
    if event.state is MessageState.CANCELLED:
        state = cancelled_spelling
    rendered: Json = {
        "time": millis(event.time),
        "messageId": message.message_id,
        "state": state,
        "url": message.url,
        "method": options.method,
        "header": headers_json(delivered_headers(options)),
        "body": encode_base64(message.body),
        "maxRetries": options.retries,
        **_optional_message_fields(message),
        **_delivery_settings_json(options),
    }
    if options.timeout is not None:
        rendered["timeout"] = int(options.timeout * 1000)
    for callback, url_field, headers_field in (
        (options.callback, "callback", "callbackHeaders"),
        (options.failure_callback, "failureCallback", "failureCallbackHeaders"),
    ):
        rendered.update(_callback_json(callback, url_field, headers_field))
    if event.error is not None:
        rendered["error"] = event.error
    if event.next_delivery_time is not None:
        rendered["nextDeliveryTime"] = millis(event.next_delivery_time)
    if event.response is not None:
        response_headers = headers_json(event.response.headers)
        rendered["responseStatus"] = event.response.status
        rendered["responseHeader"] = response_headers
        rendered["responseHeaders"] = response_headers
        rendered["responseBody"] = encode_base64(event.response.body)
    return rendered


def callback_body(
    message: Message, response: AttemptResponse | None, dlq_id: str | None = None
) -> Json:
    """What QStash POSTs to a callback URL about one attempt of `message`."""
    rendered: Json = {
        "status": response.status if response else 0,
        "header": headers_json(response.headers) if response else {},
        "body": encode_base64(response.body) if response else "",
        "retried": message.retried,
        "maxRetries": message.options.retries,
        "sourceMessageId": message.message_id,
        "url": message.url,
        "method": message.options.method,
        "sourceHeader": headers_json(delivered_headers(message.options)),
        "sourceBody": encode_base64(message.body),
        "topicName": message.topic_name or "",
        "endpointName": message.endpoint_name or "",
        "scheduleId": message.schedule_id or "",
        "queueName": message.queue_name or "",
        "callerIP": message.caller_ip,
        "notBefore": millis(message.due_at),
        "createdAt": millis(message.created_at),
    }
    if message.options.label is not None:
        rendered["label"] = message.options.label
    if dlq_id is not None:
        rendered["dlqId"] = dlq_id
    return rendered


def schedule_json(schedule: Schedule) -> Json:
    """A schedule as `GET /v2/schedules/{id}` returns it."""
    options = schedule.options
    rendered: Json = {
        "scheduleId": schedule.schedule_id,
        "destination": schedule.destination,
        "cron": schedule.cron.text,
        "createdAt": millis(schedule.created_at),
        "method": options.method,
        "header": headers_json(delivered_headers(options)),
        "retries": options.retries,
        "delay": int(options.delay),
        "callerIP": schedule.caller_ip,
        "callerIp": schedule.caller_ip,
        "isPaused": schedule.paused,
        "nextScheduleTime": millis(schedule.next_fire),
        "lastScheduleStates": dict(schedule.last_states),
        **body_json(schedule.body, "body", "bodyBase64"),
        **_callback_json(options.callback, "callback", "callbackHeader"),
        **_callback_json(options.failure_callback, "failureCallback", "failureCallbackHeader"),
        **_delivery_settings_json(options),
    }
    if options.timeout is not None:
        rendered["timeout"] = int(options.timeout)
    if schedule.queue_name is not None:
        rendered["queueName"] = schedule.queue_name
    if schedule.last_fire is not None:
        rendered["lastScheduleTime"] = millis(schedule.last_fire)
    if schedule.error is not None:
        rendered["error"] = schedule.error
    return rendered


def queue_json(queue: QueueState) -> Json:
    """A queue as `GET /v2/queues/{name}` returns it."""
    return {
        "name": queue.name,
        "parallelism": queue.parallelism,
        "paused": queue.paused,
        "lag": queue.lag,
        "createdAt": millis(queue.created_at),
        "updatedAt": millis(queue.updated_at),
    }


def url_group_json(group: UrlGroup) -> Json:
    """A URL group as `GET /v2/topics/{name}` returns it."""
    return {
        "name": group.name,
        "createdAt": millis(group.created_at),
        "updatedAt": millis(group.updated_at),
        "endpoints": [_endpoint_json(endpoint) for endpoint in group.endpoints],
    }


def _endpoint_json(endpoint: Endpoint) -> Json:
    rendered: Json = {"url": endpoint.url}
    if endpoint.name is not None:
        rendered["name"] = endpoint.name
    return rendered


def _optional_message_fields(message: Message) -> Json:
    present = {
        "topicName": message.topic_name,
        "endpointName": message.endpoint_name,
        "queueName": message.queue_name,
        "scheduleId": message.schedule_id,
    }
    return {name: value for name, value in present.items() if value is not None}


def _callback_json(callback: CallbackOptions | None, url_field: str, headers_field: str) -> Json:
    if callback is None:
        return {}
    return {url_field: callback.url, headers_field: headers_json(callback.headers)}


def _delivery_settings_json(options: DeliveryOptions) -> Json:
    """Label, retry delay and flow control, in the spellings of both the SDK and the spec."""
    rendered: Json = {}
    if options.label is not None:
        rendered["label"] = options.label
        rendered["labels"] = options.labels
    if options.retry_delay is not None:
        rendered["retryDelayExpression"] = options.retry_delay.source
        rendered["retryDelayExpr"] = options.retry_delay.source
    flow_control = options.flow_control
    if flow_control is not None:
        rendered["flowControlKey"] = flow_control.key
        limits = {
            "parallelism": flow_control.parallelism,
            "rate": flow_control.rate,
            "period": flow_control.period,
        }
        rendered.update({name: value for name, value in limits.items() if value is not None})
    return rendered
