"""The server's parts, bundled for the request handlers to reach through the application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from devstack.qstash.config import QStashServerConfig
from devstack.qstash.delivery import DeliveryEngine
from devstack.qstash.publishing import Publisher
from devstack.qstash.scheduler import Scheduler
from devstack.qstash.store import QStashStore


@dataclass(frozen=True)
class Services:
    """One server's configuration, state and machinery."""

    config: QStashServerConfig
    store: QStashStore
    engine: DeliveryEngine
    publisher: Publisher
    scheduler: Scheduler


SERVICES = web.AppKey("qstash_services", Services)
