"""What the job queue's identifiers look like, and the path QStash calls to drain it.

Kept free of models so the HTTP edge can import it without building the queue's models.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# A job type names a handler; it also becomes part of Redis keys, so it stays a plain token.
JOB_TYPE_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
# Job ids are made by the queue (uuid4 hex); anything else cannot name a job.
JOB_ID_PATTERN = r"^[0-9a-f]{32}$"

JobTypeName = Annotated[str, StringConstraints(pattern=JOB_TYPE_PATTERN)]

# The route QStash calls after an enqueue; also the URL its signature is checked against.
DRAIN_PATH = "/api/jobs/drain"
