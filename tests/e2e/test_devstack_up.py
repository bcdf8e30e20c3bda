"""`python -m devstack up`, the heart of `make run`: everything starts, answers, and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devstack.stack import StackOptions

PROJECT_DIR = Path(__file__).resolve().parents[2]
PORTS = tuple(getattr(StackOptions(), f) for f in StackOptions.model_fields if f.endswith("_port"))


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _health() -> tuple[int, dict[str, object]] | None:
    try:
        with urllib.request.urlopen("http://127.0.0.1:8000/api/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None


@pytest.fixture
def stack_process(tmp_path: Path):  # type: ignore[no-untyped-def]
    busy = [port for port in PORTS if _listening(port)]
    if busy:
        pytest.fail(f"ports {busy} are taken: stop `make run` (or whatever holds them) first")
    output = tmp_path / "up.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack", "up"],
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield process, output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_up_serves_the_app_against_every_service_and_stops_cleanly(stack_process) -> None:  # type: ignore[no-untyped-def]
    process, output = stack_process
    deadline = time.monotonic() + 90
    health = None
    while time.monotonic() < deadline and process.poll() is None:
        health = _health()
        if health is not None:
            break
        time.sleep(0.5)
    assert health is not None, output.read_text()
    status, body = health
    assert status == 200, body
    printed = output.read_text()
    for name in ("dynamodb", "redis-rest", "qstash", "smtp", "mail", "worker", "app"):
        assert any(line.startswith(name) for line in printed.splitlines()), printed

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, output.read_text()
    still_open = [port for port in PORTS if _listening(port)]
    assert still_open == [], f"still listening after SIGTERM: {still_open}"
