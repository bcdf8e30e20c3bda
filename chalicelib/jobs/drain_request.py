"""Ask QStash to call the job processor now, instead of waiting for the scheduled drain.

Only a wake-up call: the jobs are already safe in Redis, so a failure here costs latency (the
schedule drains within a minute), never work. It is logged and counted, not raised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.jobs.names import DRAIN_PATH, JobTypeName
from chalicelib.observability import count_metric, logger
from chalicelib.settings import Settings

# A drain that fails is not worth many redeliveries: the scheduled drain follows anyway.
DRAIN_RETRIES = 1


class DrainRequest(BaseModel):
    """The body QStash delivers to the drain route: which job types to process."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    types: list[JobTypeName] | None = Field(default=None, min_length=1, max_length=50)

    @classmethod
    def for_types(cls, types: Sequence[str]) -> DrainRequest:
        """A request for `types`, each checked to be a job type name."""
        return cls.model_validate({"types": list(types)})


def drain_deduplication_id(job_ids: Sequence[str]) -> str:
    """The same jobs always give the same id, so a retried enqueue publishes one drain."""
    digest = hashlib.sha256(",".join(sorted(job_ids)).encode()).hexdigest()
    return f"jobs-drain-{digest[:40]}"


def request_drain(job_ids: Sequence[str], types: Sequence[str], settings: Settings) -> bool:
    """Publish a drain of `types` to the processor route; True when QStash took it.

    Does nothing (False) when draining on enqueue is off, QStash is not configured, or the app
    has no public URL for QStash to call.
    """
    url = settings.public_url(DRAIN_PATH)
    if not (settings.job_drain_on_enqueue and settings.qstash_configured and url):
        return False
    from chalicelib.queue.messages import OutgoingMessage
    from chalicelib.queue.publisher import PublishFailedError, QStashPublisher
    from chalicelib.queue.qstash_client import QStashNotConfiguredError, qstash_client

    message = OutgoingMessage(
        url=url,
        body=DrainRequest.for_types(types).model_dump(),
        deduplication_id=drain_deduplication_id(job_ids),
        retries=DRAIN_RETRIES,
    )
    try:
        QStashPublisher(qstash_client(settings)).publish(message)
    except (PublishFailedError, QStashNotConfiguredError) as exc:
        logger.warning(
            "could not ask QStash to drain the job queue; the schedule will",
            extra={"error": str(exc), "job_ids": list(job_ids)[:20]},
        )
        count_metric("JobDrainRequestFailed")
        return False
    return True
