"""A QStash-compatible local server: publish, queues, URL groups, schedules, retries, callbacks,
DLQ and event log, all in memory, with signed deliveries and chaos knobs for tests.

`create_app(QStashServerConfig(...))` gives the aiohttp application; by default it accepts the
same fixed development credentials as the official `qstash dev` server.
"""

from devstack.qstash.app import create_app
from devstack.qstash.config import (
    DEFAULT_PORT,
    DEV_CURRENT_SIGNING_KEY,
    DEV_NEXT_SIGNING_KEY,
    DEV_TOKEN,
    QStashServerConfig,
)

__all__ = [
    "DEFAULT_PORT",
    "DEV_CURRENT_SIGNING_KEY",
    "DEV_NEXT_SIGNING_KEY",
    "DEV_TOKEN",
    "QStashServerConfig",
    "create_app",
]
