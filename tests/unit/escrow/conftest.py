"""Fakes for the escrow service's collaborators: an in-memory store and job queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from chalicelib.escrow.models import CreateEscrowRequest
from chalicelib.jobs.models import JobSpec
from chalicelib.jobs.queue import EnqueueFailedError
from tests.fakes.escrow_store import InMemoryEscrowStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeJobQueue:
    """Enqueues in memory with the real queue's dedupe rule (type and key give one job);
    `down` makes every enqueue fail as an unreachable Redis would."""

    def __init__(self) -> None:
        self.jobs: dict[str, JobSpec] = {}
        self.calls: list[list[JobSpec]] = []
        self._dedupe: dict[tuple[str, str], str] = {}
        self.down = False

    def enqueue(self, specs: Sequence[JobSpec]) -> list[str]:
        """Enqueue `specs` in one call; their ids in order."""
        self.calls.append(list(specs))
        if self.down:
            raise EnqueueFailedError("ConnectError: Redis is down")
        ids = []
        for spec in specs:
            key = (spec.job_type, spec.dedupe_key or uuid.uuid4().hex)
            if key not in self._dedupe:
                job_id = uuid.uuid4().hex
                self._dedupe[key] = job_id
                self.jobs[job_id] = spec
            ids.append(self._dedupe[key])
        return ids

    def types(self, call: int = -1) -> list[str]:
        """The job types of one enqueue call (the last by default)."""
        return [spec.job_type for spec in self.calls[call]]


@pytest.fixture
def store() -> InMemoryEscrowStore:
    return InMemoryEscrowStore()


@pytest.fixture
def queue() -> FakeJobQueue:
    return FakeJobQueue()


def create_request(**changes: object) -> CreateEscrowRequest:
    """A valid create request, with `changes` (by alias) applied."""
    body: dict[str, object] = {
        "amount": 125_000,
        "currency": "usd",
        "buyerEmail": "buyer@example.com",
        "sellerEmail": "seller@example.com",
        "partnerWebhookUrl": "https://partner.example/hooks/escrow",
        "paymentId": "pi_123",
        **changes,
    }
    return CreateEscrowRequest.model_validate(body)
