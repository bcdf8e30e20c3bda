"""Serve an aiohttp application from a background thread.

Every emulator in the local stack is an aiohttp application. Running each one in a thread with
its own event loop lets `python -m devstack up` host them all in one process and lets the tests
start a fresh one per test on a free port, through the same code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

AppFactory = Callable[[], web.Application]


class BackgroundServer:
    """One aiohttp application listening on `host:port` from a daemon thread.

    The factory runs inside the server's own event loop, so anything the application creates at
    start-up (sessions, background tasks) belongs to that loop.
    """

    def __init__(self, factory: AppFactory, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._factory = factory
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.app: web.Application | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when 0 asked for a free one)."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL of the running server, without a trailing slash."""
        return f"http://{self._host}:{self._port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving; returns once the socket is bound or raises what start-up raised."""
        self._thread = threading.Thread(target=self._run, name=f"server:{self._port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"server on {self._host}:{self._port} did not start")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() rather than lost in the thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._shutdown())
        loop.close()

    async def _serve(self) -> None:
        self.app = self._factory()
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, reuse_address=True)
        await site.start()
        server = site._server
        if self._port == 0 and isinstance(server, asyncio.Server):
            self._port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the application's cleanup hooks to finish."""
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
