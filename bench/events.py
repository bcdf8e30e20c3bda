"""What the event bus costs: Redis round trips per consumed event, QStash calls per checkout,
and events per second end to end, with and without duplicate deliveries.

Runs the whole local stack in this process. Redis round trips are counted as requests to the
Upstash REST endpoint made by the app's own client while one signed event is delivered to its
topic route (first delivery, then the same body again). QStash calls are counted as the publish
and batch requests the app's QStash client sends for one `POST /api/checkout`, until the order
is emailed. Throughput publishes N `audit.log` events (in batches) and waits until every effect
has happened, first on a normal stack, then on one whose QStash delivers every message twice.
For the Redis and throughput figures `audit.log` is consumed by a counting handler, so they
measure the bus, not a particular handler.

Run: python -m bench.events [--events N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

import chalicelib.events.subscribers as subscribers
from bench.verdict import report_targets
from chalicelib.events.consumers import EventConsumers, EventHandler
from chalicelib.events.envelope import EventEnvelope, new_event
from chalicelib.events.payloads import AuditLog
from chalicelib.events.publishing import publish_events
from chalicelib.queue.qstash_client import qstash_client
from chalicelib.redis_client import upstash_redis_client
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack, StackOptions

FIRST_DELIVERY_TARGET = 2
DUPLICATE_TARGET = 1
BATCH_SIZE = 25
WARM_UP_EVENTS = 20
WAIT_SECONDS = 120.0
# QStash's waits (backoff, and its 15 min delivery timeout) a hundred times shorter: a slow
# delivery under load is still answered, a retry does not stall the run.
TIME_SCALE = 0.01


class CountingTransport(httpx.BaseTransport):
    """An httpx transport that counts the requests it sends, by path."""

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths[request.url.path] += 1
        return self._inner.handle_request(request)

    def total(self, prefix: str = "") -> int:
        """Requests whose path starts with `prefix`."""
        with self._lock:
            return sum(n for path, n in self.paths.items() if path.startswith(prefix))


def _count_redis() -> CountingTransport:
    counter = CountingTransport()
    upstash_redis_client(get_settings())._http._client = httpx.Client(transport=counter)
    return counter


def _count_qstash() -> CountingTransport:
    counter = CountingTransport()
    qstash_client(get_settings()).http._client = httpx.Client(transport=counter)
    return counter


class CountingConsumers(EventConsumers):
    """`audit.log` consumed by a handler that counts effects; other types as in production."""

    def __init__(self, production: EventConsumers) -> None:
        super().__init__()
        self._production = production
        self._lock = threading.Lock()
        self.effects: set[str] = set()
        self.on("audit.log")(self._audit)

    def _audit(self, payload: AuditLog, event: EventEnvelope) -> None:
        with self._lock:
            self.effects.add(event.event_id)

    def done(self) -> int:
        """How many distinct events had their effect."""
        with self._lock:
            return len(self.effects)

    def handler_for(self, event_type: str) -> EventHandler | None:
        return super().handler_for(event_type) or self._production.handler_for(event_type)


@contextmanager
def counting_consumers() -> Iterator[CountingConsumers]:
    """The app's routes (in this process) consume with a `CountingConsumers` meanwhile."""
    original = subscribers.load_subscribers
    registry = CountingConsumers(original())
    setattr(subscribers, "load_subscribers", lambda: registry)  # noqa: B010 - a swap, typed apart
    try:
        yield registry
    finally:
        setattr(subscribers, "load_subscribers", original)  # noqa: B010


def _audit_event() -> EventEnvelope:
    payload = AuditLog(action="bench", entity="probe", entity_id=uuid.uuid4().hex)
    return new_event("audit.log", payload, source="bench")


def redis_round_trips(http: httpx.Client, app_url: str) -> tuple[int, int]:
    """Round trips to Upstash for one event's first delivery and for its duplicate."""
    url = f"{app_url}/api/webhooks/analytics"
    body = json.dumps(_audit_event().wire()).encode()
    counter = _count_redis()
    counts = []
    for _ in range(2):
        before = counter.total()
        signature = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=body, now=time.time())
        response = http.post(url, content=body, headers={"Upstash-Signature": signature})
        response.raise_for_status()
        counts.append(counter.total() - before)
    return counts[0], counts[1]


def qstash_calls_per_checkout(http: httpx.Client, app_url: str, admin_token: str) -> dict[str, Any]:
    """The app's publish and batch requests for one checkout, through to its email."""
    product_id = f"bench-{uuid.uuid4().hex[:8]}"
    http.put(
        f"{app_url}/api/products/{product_id}",
        json={"name": "Bench widget", "price": 250, "stock": 100},
        headers={"Authorization": f"Bearer {admin_token}"},
    ).raise_for_status()
    counter = _count_qstash()
    started = time.perf_counter()
    accepted = http.post(
        f"{app_url}/api/checkout",
        json={
            "customer": {"customerId": "c1", "email": "bench@example.com", "name": "Bench"},
            "items": [{"productId": product_id, "quantity": 2, "price": 250}],
            "paymentId": "pay_bench",
        },
    )
    accepted.raise_for_status()
    status_url = f"{app_url}{accepted.json()['statusUrl']}"
    deadline = time.monotonic() + WAIT_SECONDS
    status = ""
    while status not in ("emailed", "rejected") and time.monotonic() < deadline:
        time.sleep(0.02)
        status = http.get(status_url).json()["status"]
    # Whatever the last consumer publishes (its audit record) leaves as it answers; a moment
    # more lets a late publish be counted rather than missed.
    time.sleep(0.5)
    return {
        "status": status,
        "publish": counter.total("/v2/publish"),
        "batch": counter.total("/v2/batch"),
        "seconds": time.perf_counter() - started,
    }


def events_per_second(events: int) -> tuple[float, float, int]:
    """Publish `events` audit events and wait for every effect: events/s, Redis round trips per
    event (every delivery the consumers saw, duplicates included), and the effects seen."""
    with counting_consumers() as registry:
        counter = _count_redis()
        batch = [_audit_event() for _ in range(events)]
        started = time.perf_counter()
        for start in range(0, events, BATCH_SIZE):
            publish_events(batch[start : start + BATCH_SIZE])
        deadline = time.monotonic() + WAIT_SECONDS
        while registry.done() < events and time.monotonic() < deadline:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        done = registry.done()
    return done / elapsed, counter.total() / events, done


def measured_throughput(events: int) -> tuple[float, float, int]:
    """`events_per_second` after a small unmeasured run that pays for the first-use imports."""
    events_per_second(WARM_UP_EVENTS)
    return events_per_second(events)


def _run_stack(duplicate_rate: float, body: Any) -> Any:
    options = StackOptions.on_free_ports(
        Path(tempfile.mkdtemp()), time_scale=TIME_SCALE, duplicate_rate=duplicate_rate
    )
    stack = LocalStack(options).start()
    print(f"redis: {next(s.detail for s in stack.services if s.name == 'redis-rest')}")
    try:
        get_settings.cache_clear()
        return body(stack)
    finally:
        stack.stop()
        get_settings.cache_clear()


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures; exit non-zero if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args(argv)

    def normal(
        stack: LocalStack,
    ) -> tuple[tuple[int, int], dict[str, Any], tuple[float, float, int]]:
        env = stack.app_environment()
        with httpx.Client(timeout=30) as http, counting_consumers():
            trips = redis_round_trips(http, env["PUBLIC_BASE_URL"])
        with httpx.Client(timeout=30) as http:
            checkout = qstash_calls_per_checkout(http, env["PUBLIC_BASE_URL"], env["ADMIN_TOKEN"])
        return trips, checkout, measured_throughput(args.events)

    (first, duplicate), checkout, (rate, trips, done) = _run_stack(0.0, normal)
    dup_rate, dup_trips, dup_done = _run_stack(1.0, lambda _: measured_throughput(args.events))

    print(f"{'measure':<44}{'value':>10}{'target':>10}")
    print(f"{'Redis round trips, first delivery':<44}{first:>10}{'<= 2':>10}")
    print(f"{'Redis round trips, duplicate delivery':<44}{duplicate:>10}{'<= 1':>10}")
    calls = checkout["publish"] + checkout["batch"]
    detail = f"{checkout['publish']} publish + {checkout['batch']} batch"
    print(f"{'QStash calls per checkout (' + detail + ')':<44}{calls:>10}{'':>10}")
    print(f"{'checkout to ' + checkout['status'] + ', s':<44}{checkout['seconds']:>10.2f}{'':>10}")
    print(f"{'events/s, ' + str(args.events) + ' events':<44}{rate:>10.0f}{'':>10}")
    print(f"{'  effects':<44}{done:>10}{args.events:>10}")
    print(f"{'  Redis round trips per event':<44}{trips:>10.2f}{'':>10}")
    print(f"{'events/s, every message delivered twice':<44}{dup_rate:>10.0f}{'':>10}")
    print(f"{'  effects':<44}{dup_done:>10}{args.events:>10}")
    print(f"{'  Redis round trips per event':<44}{dup_trips:>10.2f}{'':>10}")
    missed = []
    if first > FIRST_DELIVERY_TARGET:
        missed.append("first delivery round trips")
    if duplicate > DUPLICATE_TARGET:
        missed.append("duplicate round trips")
    if done < args.events or dup_done < args.events:
        missed.append("an event's effect never happened")
    if checkout["status"] != "emailed":
        missed.append("checkout did not reach its email")
    return report_targets(missed)


if __name__ == "__main__":
    sys.exit(main())
