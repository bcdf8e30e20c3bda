"""Hand messages to QStash through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.queue.messages import OutgoingMessage, PublishReceipt

if TYPE_CHECKING:
    from qstash import QStash


class PublishFailedError(RuntimeError):
    """QStash did not accept the message (unreachable, refused, or rate limited)."""


class Publisher(Protocol):
    """Anything that can hand messages to a delivery service."""

    def publish(self, message: OutgoingMessage) -> PublishReceipt:
        """Publish one message."""
        ...


class BatchPublisher(Publisher, Protocol):
    """A publisher that can also hand several messages over in one call."""

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> list[PublishReceipt]:
        """Publish `messages` together; receipts in the same order."""
        ...


def _sdk_arguments(message: OutgoingMessage) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "url": message.url,
        "body": message.body,
        "deduplication_id": message.deduplication_id,
    }
    if message.failure_callback is not None:
        arguments["failure_callback"] = message.failure_callback
    if message.retries is not None:
        arguments["retries"] = message.retries
    if message.delay_seconds:
        arguments["delay"] = f"{message.delay_seconds}s"
    return arguments


def _receipt(response: object) -> PublishReceipt:
    return PublishReceipt(
        message_id=getattr(response, "message_id"),  # noqa: B009 - a union of SDK types
        deduplicated=bool(getattr(response, "deduplicated", False)),
    )


@contextmanager
def _publish_errors() -> Iterator[None]:
    """Turn every way the SDK can fail into one error the caller can act on."""
    import httpx
    from qstash.errors import QStashError

    try:
        yield
    except (QStashError, httpx.HTTPError, ValueError, KeyError) as exc:
        # ValueError/KeyError: an answer that is not JSON or has no messageId, so whether QStash
        # took the message is unknown; the fallback runs and idempotency absorbs a duplicate.
        raise PublishFailedError(f"{type(exc).__name__}: {exc}") from exc


class QStashPublisher:
    """The real publisher: `publish_json` of the `qstash` SDK."""

    def __init__(self, client: QStash) -> None:
        self._client = client

    def publish(self, message: OutgoingMessage) -> PublishReceipt:
        """Publish one message; raises `PublishFailedError` when QStash does not take it."""
        with _publish_errors():
            return _receipt(self._client.message.publish_json(**_sdk_arguments(message)))

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> list[PublishReceipt]:
        """Publish `messages` in ONE HTTP call (`batch_json`); all or nothing to the caller.

        Raises `PublishFailedError` when QStash does not take the batch; a caller retrying it
        creates no duplicates, because every message carries its deduplication id.
        """
        if not messages:
            return []
        with _publish_errors():
            responses = self._client.message.batch_json(
                [_sdk_arguments(message) for message in messages]  # type: ignore[misc]
            )
            return [_receipt(response) for response in responses]
