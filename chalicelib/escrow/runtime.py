"""Build the escrow machinery from settings: the store, and the job states a view shows.

Kept apart from the domain logic so `service` and the job handlers take plain collaborators
(and unit tests pass fakes), while the edges get the real ones from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.escrow.dynamodb_store import DynamoDBEscrowStore
from chalicelib.escrow.store import EscrowStore
from chalicelib.observability import logger
from chalicelib.settings import Settings


def escrow_store(settings: Settings) -> EscrowStore:
    """The DynamoDB store of `settings`' table."""
    from chalicelib.dynamodb import dynamodb_client

    return DynamoDBEscrowStore(dynamodb_client(settings), settings.longhaul_table)


def job_states(job_ids: Iterable[str]) -> dict[str, str]:
    """Each job's state on the job queue: "expired" for a job the queue no longer knows
    (completed jobs are kept for a week), "unknown" for all while the queue cannot be read."""
    from chalicelib.jobs.queue import QueueUnavailableError, get_job_statuses
    from chalicelib.redis_client import RedisNotConfiguredError

    wanted = list(job_ids)
    try:
        statuses = get_job_statuses(wanted)
    except (QueueUnavailableError, RedisNotConfiguredError) as exc:
        # The escrow is still worth showing without its job states.
        logger.warning("job states unavailable", extra={"error": str(exc)})
        return dict.fromkeys(wanted, "unknown")
    return {
        job_id: "expired" if status is None else status.state
        for job_id, status in zip(wanted, statuses, strict=True)
    }
