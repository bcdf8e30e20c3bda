"""Bounded polling for tests that wait on something happening in another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

Result = TypeVar("Result")


def wait_until(
    probe: Callable[[], Result | None], timeout: float = 5.0, what: str = "condition"
) -> Result:
    """Poll `probe` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = probe()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)
