"""Check that a port can be bound before a service tries, to fail with a clear message."""

from __future__ import annotations

import socket


class PortInUseError(RuntimeError):
    """Another process already listens on the port a service was asked to use."""


def ensure_port_free(host: str, port: int, service: str) -> None:
    """Raise `PortInUseError` naming `service` when `host:port` cannot be bound."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"{service}: port {port} on {host} is in use ({exc.strerror}); "
                f"stop whatever holds it or pass another port"
            ) from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago, for servers that cannot bind port 0 themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
