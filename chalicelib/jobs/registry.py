"""Which function handles each job type, and the payload model it expects.

Modules that define handlers register them on the default `registry` with a decorator:

    @registry.handler("send_release_email", ReleaseEmail)
    def send_release_email(payload: ReleaseEmail, job: JobContext) -> dict[str, Any] | None:
        ...

A handler gets its payload validated and a `JobContext`; it returns a JSON-able dict (kept as
the job's result) or None. Raising `PermanentJobError` dead-letters the job at once; any other
exception is retried with backoff.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from chalicelib.jobs.models import JobContext
from chalicelib.jobs.names import JOB_TYPE_PATTERN

__all__ = ["JobContext", "JobRegistry", "PermanentJobError", "RegisteredHandler", "registry"]

PayloadT = TypeVar("PayloadT", bound=BaseModel)
JobHandler = Callable[[PayloadT, JobContext], dict[str, Any] | None]

_JOB_TYPE = re.compile(JOB_TYPE_PATTERN)


class PermanentJobError(Exception):
    """The job can never succeed (bad data, a refusal that will not change): dead-letter it."""


@dataclass(frozen=True)
class RegisteredHandler(Generic[PayloadT]):
    """A handler with the job type it serves and the model of its payload."""

    job_type: str
    payload_model: type[PayloadT]
    run: JobHandler[PayloadT]


class JobRegistry:
    """Job types mapped to their handlers; one type has exactly one handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, RegisteredHandler[Any]] = {}

    def handler(
        self, job_type: str, payload_model: type[PayloadT]
    ) -> Callable[[JobHandler[PayloadT]], JobHandler[PayloadT]]:
        """Decorate a function to handle `job_type`, whose payloads are `payload_model`s."""
        if not _JOB_TYPE.match(job_type):
            raise ValueError(f"job type {job_type!r} must match {JOB_TYPE_PATTERN}")
        if job_type in self._handlers:
            raise ValueError(f"job type {job_type!r} already has a handler")

        def register(function: JobHandler[PayloadT]) -> JobHandler[PayloadT]:
            self._handlers[job_type] = RegisteredHandler(job_type, payload_model, function)
            return function

        return register

    def get(self, job_type: str) -> RegisteredHandler[Any] | None:
        """The handler of `job_type`, or None when no module registered one."""
        return self._handlers.get(job_type)

    @property
    def types(self) -> tuple[str, ...]:
        """Every registered job type, sorted."""
        return tuple(sorted(self._handlers))


# The application's registry; `catalogue.load_job_handlers()` fills it.
registry = JobRegistry()
