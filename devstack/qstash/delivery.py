"""Delivering messages: signed attempts, retries with backoff, callbacks, the DLQ, FIFO queues
and the chaos knobs (injected failures, duplicate deliveries, added latency)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from devstack.qstash.config import QStashServerConfig
from devstack.qstash.durations import parse_retry_after
from devstack.qstash.options import CallbackOptions, DeliveryOptions
from devstack.qstash.records import (
    AttemptResponse,
    Message,
    MessageState,
    QueueState,
    new_id,
)
from devstack.qstash.signing import sign_delivery
from devstack.qstash.store import QStashStore
from devstack.qstash.wire_format import callback_body

USER_AGENT = "Upstash-QStash"
# The longest a destination may take to answer when Upstash-Timeout does not say (free plan).
DEFAULT_TIMEOUT_SECONDS = 900.0
MAX_BACKOFF_SECONDS = 86400.0
NON_RETRYABLE_STATUS = 489
INJECTED_FAILURE = "chaos: the attempt failed before reaching the destination"


def default_backoff_seconds(retry_number: int) -> float:
    """QStash's default wait before retry `retry_number` (1 = first retry): min(1 day, e^(2.5n))."""
    exponent = 2.5 * retry_number
    if exponent >= math.log(MAX_BACKOFF_SECONDS):
        return MAX_BACKOFF_SECONDS
    return math.exp(exponent)


@dataclass(frozen=True)
class AttemptOutcome:
    """The result of one attempt: the destination's response, or why there was none."""

    response: AttemptResponse | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        """Any 2xx answer means the message is done."""
        return self.response is not None and 200 <= self.response.status < 300

    @property
    def non_retryable(self) -> bool:
        """489 with `Upstash-NonRetryable-Error: true` sends the message to the DLQ at once."""
        response = self.response
        return (
            response is not None
            and response.status == NON_RETRYABLE_STATUS
            and (response.header("Upstash-NonRetryable-Error") or "").strip().lower() == "true"
        )


class DeliveryEngine:
    """Runs every accepted message to its end as a task of the server's event loop."""

    def __init__(self, config: QStashServerConfig, store: QStashStore) -> None:
        self._config = config
        self._store = store
        self._rng = random.Random(config.seed)  # noqa: S311 - simulated faults, not secrets
        self._slots = asyncio.Semaphore(config.max_concurrent_deliveries)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP client used for every outgoing delivery."""
        connector = aiohttp.TCPConnector(limit=self._config.max_concurrent_deliveries)
        self._session = aiohttp.ClientSession(connector=connector)

    async def stop(self) -> None:
        """Abandon pending deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def submit(self, message: Message) -> None:
        """Accept `message`: log it and start delivering it (behind its queue, if it has one)."""
        self._store.messages[message.message_id] = message
        self._store.log(MessageState.CREATED, message)
        if message.queue_name is None:
            self._spawn(self._deliver(message))
            return
        queue = self._store.queues.get(message.queue_name)
        if queue is None:
            queue = self.upsert_queue(message.queue_name, parallelism=1, paused=False)
        queue.pending.append(message)
        queue.changed.set()

    def cancel(self, message: Message) -> None:
        """Stop `message` now, or after its attempt in flight if that attempt fails."""
        if message.finished:
            return
        message.cancel_requested = True
        self._store.log(MessageState.CANCEL_REQUESTED, message)
        if not message.in_flight:
            self._finish(message, MessageState.CANCELLED)

    def upsert_queue(self, name: str, *, parallelism: int, paused: bool) -> QueueState:
        """Create queue `name` or change its parallelism and paused flag."""
        now = time.time()
        queue = self._store.queues.get(name)
        if queue is None:
            queue = QueueState(
                name=name, parallelism=parallelism, paused=paused, created_at=now, updated_at=now
            )
            self._store.queues[name] = queue
        else:
            queue.parallelism = parallelism
            queue.paused = paused
            queue.updated_at = now
        queue.changed.set()
        while queue.workers < queue.parallelism:
            queue.workers += 1
            self._spawn(self._work_queue(queue))
        return queue

    def delete_queue(self, queue: QueueState) -> None:
        """Remove `queue`, cancelling the messages still waiting in it."""
        queue.deleted = True
        queue.changed.set()
        self._store.queues.pop(queue.name, None)
        for message in queue.pending:
            self.cancel(message)
        queue.pending.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work_queue(self, queue: QueueState) -> None:
        """One of `parallelism` workers taking messages from the queue in FIFO order."""
        while True:
            if queue.deleted or queue.workers > queue.parallelism:
                queue.workers -= 1
                return
            if queue.paused or not queue.pending:
                queue.changed.clear()
                await queue.changed.wait()
                continue
            message = queue.pending.popleft()
            if message.finished:
                continue
            queue.active += 1
            try:
                await self._deliver(message)
            finally:
                queue.active -= 1

    async def _deliver(self, message: Message) -> None:
        """Attempt `message` until it is delivered, fails for good or is cancelled."""
        if await self._wait(message, message.due_at - time.time()):
            return
        while True:
            outcome = await self._attempt(message)
            callback = message.options.callback
            if callback is not None and outcome.response is not None:
                self._send_callback(message, callback, outcome.response)
            if outcome.delivered:
                self._finish(message, MessageState.DELIVERED, response=outcome.response)
                return
            self._store.log(
                MessageState.ERROR, message, error=outcome.error, response=outcome.response
            )
            if message.cancel_requested:
                self._finish(message, MessageState.CANCELLED)
                return
            if outcome.non_retryable or message.retried >= message.options.retries:
                self._fail(message, outcome)
                return
            delay = self._retry_delay(message, outcome.response)
            message.retried += 1
            self._store.log(MessageState.RETRY, message, next_delivery_time=time.time() + delay)
            if await self._wait(message, delay):
                return

    async def _wait(self, message: Message, seconds: float) -> bool:
        """Sleep up to `seconds` unless cancelled first; True if the message is finished."""
        if seconds > 0 and not message.finished:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(message.wakeup.wait(), seconds)
        return message.finished

    async def _attempt(self, message: Message) -> AttemptOutcome:
        """One attempt, with the chaos knobs applied around the real request."""
        self._store.log(MessageState.ACTIVE, message)
        message.in_flight = True
        retried = message.retried
        try:
            if self._config.latency > 0:
                await asyncio.sleep(self._config.latency)
            duplicate = self._rng.random() < self._config.duplicate_rate
            copies = self._config.duplicate_copies if duplicate else 0
            # Each copy races the real attempt or follows it, as a coin decides.
            racing = sum(self._rng.random() < 0.5 for _ in range(copies))
            for _ in range(racing):
                self._spawn(self._send(message, retried))
            if self._rng.random() < self._config.fail_rate:
                outcome = AttemptOutcome(response=None, error=INJECTED_FAILURE)
            else:
                outcome = await self._send(message, retried)
            for _ in range(copies - racing):
                self._spawn(self._send(message, retried))
            return outcome
        finally:
            message.in_flight = False

    async def _send(self, message: Message, retried: int) -> AttemptOutcome:
        """POST (or the message's method) the body to the destination, signed."""
        assert self._session is not None, "the engine was not started"
        options = message.options
        headers = CIMultiDict(options.headers)
        if options.content_type is not None:
            headers["Content-Type"] = options.content_type
        headers["Upstash-Message-Id"] = message.message_id
        headers["Upstash-Retried"] = str(retried)
        headers["Upstash-Caller-Ip"] = message.caller_ip
        headers["User-Agent"] = USER_AGENT
        if message.topic_name is not None:
            headers["Upstash-Topic-Name"] = message.topic_name
        if message.schedule_id is not None:
            headers["Upstash-Schedule-Id"] = message.schedule_id
        headers["Upstash-Signature"] = sign_delivery(
            key=self._store.current_signing_key, url=message.url, body=message.body, now=time.time()
        )
        # Without this aiohttp would label a body it was given no type for as octet-stream.
        skip = () if options.content_type is not None else ("Content-Type",)
        timeout = aiohttp.ClientTimeout(total=options.timeout or DEFAULT_TIMEOUT_SECONDS)
        try:
            async with (
                self._slots,
                self._session.request(
                    options.method,
                    URL(message.url, encoded=True),
                    data=message.body or None,
                    headers=headers,
                    timeout=timeout,
                    skip_auto_headers=skip,
                ) as response,
            ):
                body = await response.read()
        except Exception as exc:  # whatever stops the request is a failed attempt, not a hang
            return AttemptOutcome(response=None, error=f"{type(exc).__name__}: {exc}")
        return AttemptOutcome(
            response=AttemptResponse(
                status=response.status, headers=tuple(response.headers.items()), body=body
            )
        )

    def _retry_delay(self, message: Message, response: AttemptResponse | None) -> float:
        """Seconds before the next attempt: Retry-After, else the expression, else the backoff."""
        seconds: float | None = None
        retry_after = response.header("Retry-After") if response is not None else None
        if retry_after is not None:
            seconds = parse_retry_after(retry_after, datetime.now(UTC))
        expression = message.options.retry_delay
        if seconds is None and expression is not None:
            # An expression that fails at run time (say sqrt(-1)) falls back to the default.
            with contextlib.suppress(ValueError):
                seconds = expression.milliseconds(message.retried) / 1000
        if seconds is None:
            seconds = default_backoff_seconds(message.retried + 1)
        return seconds * self._config.time_scale

    def _fail(self, message: Message, outcome: AttemptOutcome) -> None:
        entry = self._store.add_to_dlq(message, outcome.response)
        self._finish(message, MessageState.FAILED, error=outcome.error)
        failure_callback = message.options.failure_callback
        if failure_callback is not None:
            self._send_callback(message, failure_callback, outcome.response, entry.dlq_id)

    def _finish(
        self,
        message: Message,
        state: MessageState,
        *,
        error: str | None = None,
        response: AttemptResponse | None = None,
    ) -> None:
        message.finished = True
        message.wakeup.set()
        self._store.messages.pop(message.message_id, None)
        self._store.log(state, message, error=error, response=response)
        schedule = self._store.schedules.get(message.schedule_id or "")
        if schedule is not None and message.message_id in schedule.last_states:
            outcome = "SUCCESS" if state is MessageState.DELIVERED else "FAIL"
            schedule.last_states[message.message_id] = outcome

    def _send_callback(
        self,
        message: Message,
        callback: CallbackOptions,
        response: AttemptResponse | None,
        dlq_id: str | None = None,
    ) -> None:
        """Publish the (failure) callback about `message` as a message of its own."""
        retries = message.options.retries if callback.retries is None else callback.retries
        now = time.time()
        self.submit(
            Message(
                message_id=new_id("msg"),
                url=callback.url,
                body=json.dumps(callback_body(message, response, dlq_id)).encode(),
                options=DeliveryOptions(
                    method=callback.method,
                    content_type="application/json",
                    headers=callback.headers,
                    retries=retries,
                    retry_delay=callback.retry_delay,
                    timeout=callback.timeout,
                ),
                created_at=now,
                due_at=now,
                caller_ip=message.caller_ip,
            )
        )
