"""The modules that register event handlers on the default registry, imported on first use."""

from __future__ import annotations

import importlib
from functools import cache

from chalicelib.events.consumers import EventConsumers, consumers

# Each module registers its handlers with `@consumers.on(...)` when imported.
SUBSCRIBER_MODULES = ("chalicelib.checkout.consumers",)


@cache
def load_subscribers() -> EventConsumers:
    """Import every subscriber module once; the default registry, with their handlers on it."""
    for name in SUBSCRIBER_MODULES:
        importlib.import_module(name)
    return consumers
