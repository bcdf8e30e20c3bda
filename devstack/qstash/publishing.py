"""Accepting a publish: resolving the destination (URL or URL group), deduplicating, and handing
the resulting messages to the delivery engine. Shared by publish, enqueue, batch, schedules and
DLQ retries."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from devstack.qstash.config import QStashServerConfig
from devstack.qstash.delivery import DeliveryEngine
from devstack.qstash.durations import MAX_DURATION_SECONDS
from devstack.qstash.errors import bad_request, not_found
from devstack.qstash.options import DeliveryOptions, require_http_url, require_name
from devstack.qstash.records import Message, new_id
from devstack.qstash.store import QStashStore
from devstack.qstash.wire_format import Json


@dataclass(frozen=True)
class PublishRequest:
    """One message as a publisher asked for it, before its destination is resolved."""

    destination: str
    body: bytes
    options: DeliveryOptions
    caller_ip: str
    queue_name: str | None = None
    schedule_id: str | None = None


@dataclass(frozen=True)
class Target:
    """One URL a publish request delivers to (several for a URL group)."""

    url: str
    topic_name: str | None = None
    endpoint_name: str | None = None


@dataclass(frozen=True)
class PreparedPublish:
    """A validated publish request with its destination resolved, ready to be accepted."""

    request: PublishRequest
    targets: tuple[Target, ...]
    to_group: bool


@dataclass(frozen=True)
class PublishResult:
    """The message created (or found, when deduplicated) for one target."""

    message_id: str
    url: str
    deduplicated: bool


@dataclass(frozen=True)
class Published:
    """What a publish request produced, in the shape the API answers with."""

    to_group: bool
    results: tuple[PublishResult, ...]

    @property
    def deduplicated(self) -> bool:
        """True when every target was a duplicate (answered 202)."""
        return all(result.deduplicated for result in self.results)

    def json(self) -> Json | list[Json]:
        """`{messageId, deduplicated}` for a URL, a list with `url` too for a URL group."""
        if not self.to_group:
            only = self.results[0]
            return {"messageId": only.message_id, "deduplicated": only.deduplicated}
        return [
            {"messageId": result.message_id, "url": result.url, "deduplicated": result.deduplicated}
            for result in self.results
        ]


def is_url(destination: str) -> bool:
    """Whether a destination is a URL rather than a URL group name."""
    return destination.lower().startswith(("http://", "https://"))


class Publisher:
    """Turns publish requests into messages; validation happens before anything is accepted."""

    def __init__(
        self, config: QStashServerConfig, store: QStashStore, engine: DeliveryEngine
    ) -> None:
        self._config = config
        self._store = store
        self._engine = engine

    def prepare(self, request: PublishRequest) -> PreparedPublish:
        """Check the request and resolve its destination; raises a 4xx ApiError if it is bad."""
        if request.queue_name is not None:
            require_name(request.queue_name, "queue name")
        if is_url(request.destination):
            target = Target(url=require_http_url(request.destination, "destination"))
            return PreparedPublish(request=request, targets=(target,), to_group=False)
        if "://" in request.destination:
            raise bad_request(f"invalid destination: {request.destination!r}")
        group = self._store.url_groups.get(require_name(request.destination, "destination"))
        if group is None or not group.endpoints:
            raise not_found(f"url group {request.destination!r} not found")
        targets = tuple(
            Target(url=endpoint.url, topic_name=group.name, endpoint_name=endpoint.name)
            for endpoint in group.endpoints
        )
        return PreparedPublish(request=request, targets=targets, to_group=True)

    def accept(self, prepared: PreparedPublish) -> Published:
        """Create and submit one message per target, unless it duplicates a recent one."""
        request = prepared.request
        options = request.options
        now = time.time()
        wait = options.delay
        if options.not_before is not None:
            wait = min(max(0.0, options.not_before - now), MAX_DURATION_SECONDS)
        due_at = now + wait * self._config.time_scale
        results = []
        for target in prepared.targets:
            key = _deduplication_key(request, target)
            existing = self._store.duplicate_of(key, now) if key is not None else None
            if existing is not None:
                results.append(PublishResult(existing, target.url, deduplicated=True))
                continue
            message = Message(
                message_id=new_id("msg"),
                url=target.url,
                body=request.body,
                options=options,
                created_at=now,
                due_at=due_at,
                caller_ip=request.caller_ip,
                topic_name=target.topic_name,
                endpoint_name=target.endpoint_name,
                queue_name=request.queue_name,
                schedule_id=request.schedule_id,
            )
            if key is not None:
                self._store.remember_deduplication(key, message.message_id, now)
            self._engine.submit(message)
            results.append(PublishResult(message.message_id, target.url, deduplicated=False))
        return Published(to_group=prepared.to_group, results=tuple(results))

    def publish(self, request: PublishRequest) -> Published:
        """Prepare and accept a single request."""
        return self.accept(self.prepare(request))


def _deduplication_key(request: PublishRequest, target: Target) -> str | None:
    """The deduplication id, or a hash of the content, scoped to the target URL and queue."""
    options = request.options
    scope = [target.url, request.queue_name]
    if options.deduplication_id is not None:
        material = json.dumps(["id", options.deduplication_id, *scope]).encode()
    elif options.content_based_deduplication:
        described = ["content", *scope, options.method, options.content_type, options.headers]
        material = json.dumps(described).encode() + b"\0" + request.body
    else:
        return None
    return hashlib.sha256(material).hexdigest()
