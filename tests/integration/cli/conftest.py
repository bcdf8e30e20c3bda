"""Running the terminal client as a user does: a separate process, against the local stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import LocalStack

PROJECT_DIR = Path(__file__).resolve().parents[3]
SCENARIO_ID = re.compile(r"\b[0-9a-f]{32}\b")
# Variables that would make rich treat the pipe as a terminal and draw a live bar instead of
# the one-line-per-change output the tests read.
TERMINAL_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


class CliRunner:
    """`python -m longhaul_cli ...` in the repository, pointed at the stack by LONGHAUL_URL."""

    def __init__(self, app_url: str) -> None:
        self.app_url = app_url
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in TERMINAL_OVERRIDES},
            "LONGHAUL_URL": app_url,
            "PYTHONUNBUFFERED": "1",
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "longhaul_cli", *args]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run to the end; stdout and stderr together in `.stdout`, as a user sees them."""
        return subprocess.run(  # noqa: S603 - this interpreter, a fixed module
            self.command(*args),
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start without waiting; output (both streams) line by line on `.stdout`."""
        return subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module
            self.command(*args),
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@pytest.fixture(scope="session")
def cli(local_stack: LocalStack) -> CliRunner:
    return CliRunner(local_stack.app_environment()["PUBLIC_BASE_URL"])


@pytest.fixture
def http(cli: CliRunner) -> Iterator[httpx.Client]:
    """The app's API, read directly to check what the client printed."""
    with httpx.Client(base_url=cli.app_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def completed_bakery(cli: CliRunner) -> tuple[subprocess.CompletedProcess[str], str]:
    """`generate bakery --follow`, run once for every test that needs a completed scenario."""
    result = cli.run(
        "generate", "bakery", "--seed", "21", "--follow", "--timeout", "60", timeout=90
    )
    match = SCENARIO_ID.search(result.stdout)
    assert match, result.stdout
    return result, match.group()
