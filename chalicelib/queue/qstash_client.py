"""The QStash SDK's publishing client and signature receiver, created on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from qstash import QStash, Receiver


class QStashNotConfiguredError(RuntimeError):
    """A QStash token (to publish) or the signing keys (to verify) are missing."""


@lru_cache(maxsize=4)
def qstash_client(settings: Settings) -> QStash:
    """A `qstash.QStash` for `settings` with a bounded timeout and no SDK-level retries.

    The SDK's default retries a dead server for about 32 s and waits up to 600 s for an answer;
    on a request path the caller falls back instead, so one bounded attempt is right.
    """
    import httpx
    from qstash import QStash

    if settings.qstash_token is None:
        raise QStashNotConfiguredError("QSTASH_TOKEN")
    client = QStash(
        settings.qstash_token.get_secret_value(), retry=False, base_url=settings.qstash_url
    )
    client.http._client = httpx.Client(timeout=settings.backend_timeout_seconds)
    return client


@lru_cache(maxsize=4)
def qstash_receiver(settings: Settings) -> Receiver:
    """A `qstash.Receiver` holding the current and next signing keys (for key rotation)."""
    from qstash import Receiver

    current, following = settings.qstash_current_signing_key, settings.qstash_next_signing_key
    if current is None or following is None:
        raise QStashNotConfiguredError("QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY")
    return Receiver(current.get_secret_value(), following.get_secret_value())
