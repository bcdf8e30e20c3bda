"""DynamoDB for the local stack: moto's server, with the application's tables created."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from devstack.ports import ensure_port_free
from infra import tables as infra_tables

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from mypy_boto3_dynamodb import DynamoDBClient

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


class DynamoDBServer:
    """moto's DynamoDB-compatible HTTP server on `host:port` (0 picks a free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8078) -> None:
        self._host = host
        self._port = port
        self._server: object | None = None

    @property
    def url(self) -> str:
        """The endpoint URL to give boto3."""
        return f"http://{self._host}:{self._port}"

    def start(self) -> DynamoDBServer:
        """Serve from a background thread; returns once listening."""
        from moto.server import ThreadedMotoServer

        # moto's server thread would hang start() forever on a taken port; fail fast instead.
        ensure_port_free(self._host, self._port, "dynamodb")
        server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        server.start()
        wsgi_server = server._server  # moto exposes no hook for its WSGI app
        wsgi_server.app = _one_request_at_a_time(wsgi_server.app)  # type: ignore[union-attr]
        self._port = server.get_host_and_port()[1]
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving; moto keeps its data in memory, so it is gone."""
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


def _one_request_at_a_time(app: WSGIApplication) -> WSGIApplication:
    """`app`, answering one request at a time.

    moto does not isolate concurrent requests: a transaction that rolls back restores a copy
    of the whole table, losing a write another thread made meanwhile, and an update's
    read-modify-write can interleave. DynamoDB makes each request atomic; serialising them gives
    the local stand-in that guarantee (and a stronger one) at a cost nobody measures locally.
    """
    lock = threading.Lock()

    def serialised(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serialised


def local_client(endpoint_url: str, region: str) -> DynamoDBClient:
    """A boto3 client for the local DynamoDB at `endpoint_url`, with the stack's credentials."""
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_tables(endpoint_url: str, region: str, environment: Mapping[str, str]) -> list[str]:
    """Create the application's tables in the local DynamoDB; return their names."""
    return infra_tables.create_tables(local_client(endpoint_url, region), environment)
