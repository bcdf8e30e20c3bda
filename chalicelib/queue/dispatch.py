"""Get work to a worker: through QStash when possible, inline (or async) when not.

The policy learnt from the seeds: a flag can force inline execution, a missing token means
inline, and a failed publish falls back rather than failing the user's request. Every fallback is
counted, because a silent fallback hides an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from chalicelib.observability import count_metric, logger
from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.publisher import Publisher, PublishFailedError

FallbackReason = Literal["disabled", "not_configured", "publish_failed"]


class DispatchResult(BaseModel):
    """How the work left the request: queued on QStash, or run by the fallback."""

    queued: bool
    message_id: str | None = None
    fallback: FallbackReason | None = None


def dispatch(
    message: OutgoingMessage,
    *,
    publisher: Publisher | None,
    fallback: Callable[[], None],
    enabled: bool = True,
) -> DispatchResult:
    """Publish `message`, or run `fallback` (and count why) when publishing is not possible.

    `publisher` is None when QStash is not configured. `enabled` False forces the fallback.
    """
    reason: FallbackReason
    if not enabled:
        reason = "disabled"
    elif publisher is None:
        reason = "not_configured"
    else:
        try:
            receipt = publisher.publish(message)
        except PublishFailedError as exc:
            logger.warning("publish failed; running the fallback", extra={"error": str(exc)})
            reason = "publish_failed"
        else:
            return DispatchResult(queued=True, message_id=receipt.message_id)
    count_metric("DispatchFallback", reason=reason)
    fallback()
    return DispatchResult(queued=False, fallback=reason)
