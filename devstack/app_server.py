"""The Chalice app served locally: Chalice's own local dev server (what `chalice local` runs),
from a thread of this process, so it shares the environment the stack gives the worker."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

from devstack.ports import ensure_port_free
from infra.stage_config import PROJECT_DIR

if TYPE_CHECKING:
    from chalice.app import Chalice


class _OneRequestAtATime:
    """The app as one Lambda container runs it: one request at a time.

    Chalice keeps the request being handled in one attribute of the app (`current_request`),
    which is right in Lambda, where a container never overlaps two invocations, but lets one
    thread of a threaded server read another request's body and headers. Routes still overlap
    with the stack's other servers (QStash, the worker), as in AWS.
    """

    def __init__(self, app: Chalice) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            return self._app(event, context)


class AppServer:
    """The app's routes on `host:port` (0 picks a free port), stage `local`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The app's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> AppServer:
        """Serve from a daemon thread; returns once the socket is bound."""
        from chalice.config import Config
        from chalice.local import LocalDevServer

        from app import app

        ensure_port_free(self.host, self.port, "app")
        config = Config.create(
            chalice_stage="local", app_name=app.app_name, project_dir=str(PROJECT_DIR)
        )
        serialised = cast("Chalice", _OneRequestAtATime(app))
        self._server = LocalDevServer(serialised, config, self.host, self.port)
        self.port = self._server.server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, name="app", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server.server_close()
            self._server = None
