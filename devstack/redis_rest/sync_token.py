"""The `Upstash-Sync-Token` answered with every response.

The SDK sends back the last token it saw so that a replicated database can wait until that
write is visible. One process serving one Redis is always consistent, so the token only has to
move forward on every write; a counter of requests that may have written does that.
"""

from __future__ import annotations

from collections.abc import Iterable

from devstack.redis_rest.command_policy import is_read_only
from devstack.redis_rest.request_body import Command

SYNC_TOKEN_HEADER = "Upstash-Sync-Token"  # noqa: S105


class SyncTokenClock:
    """Counts requests that ran at least one command which may have changed data."""

    def __init__(self) -> None:
        self._writes = 0

    def after(self, executed: Iterable[Command]) -> str:
        """The token to answer once `executed` ran: a new one if any of them may have written."""
        if not all(is_read_only(command) for command in executed):
            self._writes += 1
        return str(self._writes)
