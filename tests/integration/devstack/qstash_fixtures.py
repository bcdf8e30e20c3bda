"""Fixtures for the local QStash server: a server per test, the official SDK pointed at it, and
a recording receiver that verifies every delivery's signature with `qstash.Receiver`."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from qstash import QStash, Receiver
from qstash.errors import QStashError, SignatureError
from qstash.message import EnqueueResponse, PublishResponse

from devstack.qstash import (
    DEV_CURRENT_SIGNING_KEY,
    DEV_NEXT_SIGNING_KEY,
    DEV_TOKEN,
    QStashServerConfig,
    create_app,
)
from devstack.service import BackgroundServer
from tests.waiting import wait_until

__all__ = [
    "Delivery",
    "QStashHarness",
    "RecordingReceiver",
    "Reply",
    "api_error",
    "qstash",
    "qstash_factory",
    "receiver",
    "single_id",
    "wait_until",
]

FAST = 0.001  # time_scale for tests: a 12 s backoff takes 12 ms


@dataclass(frozen=True)
class Reply:
    """A scripted answer of the receiver: status, headers, body, and how long to hold it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hold: float = 0.0


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got, with the outcome of verifying its signature."""

    method: str
    path: str
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes
    signature_error: str | None
    started: float
    finished: float

    @property
    def message_id(self) -> str:
        """The `Upstash-Message-Id` header."""
        return self.headers["Upstash-Message-Id"]

    @property
    def retried(self) -> int:
        """The `Upstash-Retried` header as a number."""
        return int(self.headers["Upstash-Retried"])


class RecordingReceiver:
    """A destination for QStash deliveries: verifies, records and answers as scripted.

    Each request is verified with `qstash.Receiver` against the URL this receiver knows it is
    reachable at (its base URL plus the request's raw path), as a real consumer would.
    """

    def __init__(self, current_key: str, next_key: str) -> None:
        self._verifier = Receiver(current_key, next_key)
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._in_flight = 0
        self.max_in_flight = 0
        self.base_url = ""

    def app(self) -> web.Application:
        """The aiohttp application answering every path."""
        application = web.Application()
        application.router.add_route("*", "/{tail:.*}", self._handle)
        return application

    def url(self, path: str) -> str:
        """The full URL of `path` on this receiver."""
        return f"{self.base_url}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer requests to `path` with `replies` in order; the last one repeats."""
        with self._lock:
            self._scripts[path] = list(replies)

    def deliveries(self, path: str | None = None) -> list[Delivery]:
        """Requests received so far (to `path` only, if given), in arrival order."""
        with self._lock:
            return [d for d in self._deliveries if path is None or d.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Block until `path` has received at least `count` requests; return them."""
        return wait_until(
            lambda: found if len(found := self.deliveries(path)) >= count else None,
            timeout,
            f"{count} deliveries to {path}",
        )

    def invalid(self) -> list[Delivery]:
        """Requests whose signature did not verify."""
        return [d for d in self.deliveries() if d.signature_error is not None]

    async def _handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        body = await request.read()
        url = self.url(request.raw_path)
        try:
            self._verifier.verify(
                signature=request.headers.get("Upstash-Signature", ""),
                body=body.decode("utf-8"),
                url=url,
            )
            error = None
        except (SignatureError, UnicodeDecodeError) as exc:
            error = str(exc)
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            replies = self._scripts.get(request.path, [])
            reply = replies.pop(0) if len(replies) > 1 else (replies[0] if replies else Reply())
        try:
            await asyncio.sleep(reply.hold)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._deliveries.append(
                    Delivery(
                        method=request.method,
                        path=request.path,
                        url=url,
                        headers=CIMultiDictProxy(CIMultiDict(request.headers)),
                        body=body,
                        signature_error=error,
                        started=started,
                        finished=time.monotonic(),
                    )
                )
        return web.Response(status=reply.status, headers=reply.headers, body=reply.body)


@dataclass
class QStashHarness:
    """A running local QStash server and an SDK client for it."""

    server: BackgroundServer
    client: QStash

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return self.server.url

    def raw(self, method: Any, path: str, **kwargs: Any) -> Any:
        """A request through the SDK's own transport, for endpoints the SDK has no method for."""
        return self.client.http.request(method=method, path=path, **kwargs)

    def status_of(self, method: Any, path: str, **kwargs: Any) -> int:
        """The status code of a successful request through the SDK's transport."""
        response = self.client.http.stream(method=method, path=path, **kwargs)
        response.close()
        return response.status_code


def single_id(response: object) -> str:
    """The message id of a publish or enqueue to a single URL."""
    assert isinstance(response, PublishResponse | EnqueueResponse), response
    return response.message_id


def api_error(call: Callable[[], object]) -> tuple[int, dict[str, Any]]:
    """Run an SDK call expected to fail; return the HTTP status and the JSON error body."""
    with pytest.raises(QStashError) as caught:
        call()
    found = re.fullmatch(r"Request failed with status: (\d+), body: (.*)", str(caught.value), re.S)
    assert found is not None, f"not an HTTP error: {caught.value}"
    return int(found.group(1)), json.loads(found.group(2))


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    """A recording receiver; the test fails if any delivery it got had a bad signature."""
    recorder = RecordingReceiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)
    with BackgroundServer(recorder.app) as server:
        recorder.base_url = server.url
        yield recorder
    assert recorder.invalid() == [], "every delivery must carry a valid signature"


@pytest.fixture
def qstash_factory() -> Iterator[Callable[..., QStashHarness]]:
    """Start servers with custom settings (`time_scale` defaults to the fast test scale)."""
    started: list[BackgroundServer] = []

    def start(**settings: Any) -> QStashHarness:
        config = QStashServerConfig(**{"time_scale": FAST, **settings})
        server = BackgroundServer(lambda: create_app(config)).start()
        started.append(server)
        return QStashHarness(server, QStash(DEV_TOKEN, base_url=server.url, retry=False))

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def qstash(qstash_factory: Callable[..., QStashHarness]) -> QStashHarness:
    """A fresh, chaos-free server at the fast test time scale."""
    return qstash_factory()
