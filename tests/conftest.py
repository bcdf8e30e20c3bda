"""Fixtures every tier may use: the real local stack, started once in this process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from chalicelib.settings import get_settings
from devstack.stack import LocalStack, StackOptions


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Every service, the worker and the app on free ports, shared by the session.

    Starting the stack gives this process the app's environment (the worker and the app run
    here); stopping it puts the old one back. Tests use their own ids, so sharing is safe.
    """
    options = StackOptions.on_free_ports(tmp_path_factory.mktemp("mail"), time_scale=0.001)
    # The local Redis outlives test runs: a queue of this session's own keeps jobs another run
    # left behind from being drained (and their emails sent) here.
    os.environ["JOB_QUEUE_NAME"] = f"test-{uuid.uuid4().hex}"
    stack = LocalStack(options).start()
    # Every test client comes from 127.0.0.1 and the real Redis keeps counts between runs, so
    # the generate limit is off here; the rate-limit tests set their own.
    os.environ["GENERATE_RATE_LIMIT"] = "0"
    get_settings.cache_clear()
    yield stack
    stack.stop()  # also gives the environment back
    os.environ.pop("JOB_QUEUE_NAME", None)
    get_settings.cache_clear()
