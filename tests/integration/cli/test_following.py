"""Following a generation from the terminal: progress, the summary, and Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from longhaul_cli.render import format_money
from tests.integration.cli.conftest import SCENARIO_ID, CliRunner
from tests.waiting import wait_until

PROGRESS_LINE = re.compile(r"^\s*(\d{1,3})%\s+\S", re.MULTILINE)


def test_generate_follow_shows_progress_then_a_summary_that_matches_the_api(
    completed_bakery: tuple[subprocess.CompletedProcess[str], str], http: httpx.Client
) -> None:
    result, scenario_id = completed_bakery
    output = result.stdout
    assert result.returncode == 0, output
    assert PROGRESS_LINE.search(output), output
    assert "100%  Complete!" in output
    status = http.get(f"/api/status/{scenario_id}").json()
    scenario = http.get(f"/api/scenarios/{scenario_id}").json()
    assert status["status"] == "completed"
    assert f"Completed bakery scenario {scenario_id}" in output
    assert re.search(rf"^events\s+{status['eventsCount']:,}$", output, re.MULTILINE), output
    final_cash = format_money(
        scenario["totals"]["final_cash_cents"], scenario["profile"]["currency"]
    )
    assert re.search(rf"^final cash\s+{re.escape(final_cash)}$", output, re.MULTILINE), output
    assert re.search(r"^validation\s+ok \(\d+ checks\)$", output, re.MULTILINE), output


def test_events_as_json_are_one_page_with_the_cursor_of_the_next(
    completed_bakery: tuple[subprocess.CompletedProcess[str], str], cli: CliRunner
) -> None:
    _, scenario_id = completed_bakery
    first = cli.run("events", scenario_id, "--limit", "5", "--json")
    assert first.returncode == 0, first.stdout
    page = json.loads(first.stdout)
    assert len(page["events"]) == 5
    assert page["nextCursor"] == page["events"][-1]["event_id"]

    second = cli.run(
        "events", scenario_id, "--limit", "5", "--cursor", page["nextCursor"], "--json"
    )
    assert second.returncode == 0, second.stdout
    following = json.loads(second.stdout)["events"]
    assert following[0]["event_id"] > page["nextCursor"]


def test_events_as_a_table_show_amounts_in_the_profiles_currency(
    completed_bakery: tuple[subprocess.CompletedProcess[str], str],
    cli: CliRunner,
    http: httpx.Client,
) -> None:
    _, scenario_id = completed_bakery
    result = cli.run("events", scenario_id, "--limit", "3")
    assert result.returncode == 0, result.stdout
    currency = http.get(f"/api/scenarios/{scenario_id}").json()["profile"]["currency"]
    events = http.get(f"/api/scenarios/{scenario_id}/events", params={"limit": 3}).json()
    for event in events["events"]:
        assert event["event_id"] in result.stdout
        assert format_money(event["amount_cents"], currency) in result.stdout
    assert f"--cursor {events['nextCursor']}" in result.stdout


@contextmanager
def interruptible_children() -> Iterator[None]:
    """Let children started inside take Ctrl-C even if this process ignores it.

    A process started with SIGINT ignored (under `nohup`, or as a non-interactive shell's
    background job) passes that on to its children, and Python then never raises
    KeyboardInterrupt. A handled signal, unlike an ignored one, is reset to the default on exec.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_stops_watching_but_not_the_generation(cli: CliRunner, http: httpx.Client) -> None:
    with interruptible_children():
        process = cli.start("generate", "tech_startup", "--seed", "5", "--follow")
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # Interrupt once the worker has visibly started: past 0 %, long before 100 %.
        wait_until(
            lambda: any(
                (m := PROGRESS_LINE.match(line)) and 0 < int(m.group(1)) < 100 for line in lines[:]
            ),
            timeout=60,
            what="the client to show progress",
        )
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == 130, output
    match = SCENARIO_ID.search(output)
    assert match, output
    scenario_id = match.group()
    assert (
        f"Stopped watching; the generation goes on. Resume with: longhaul status {scenario_id}"
        " --follow"
    ) in output
    assert "Traceback" not in output

    final = wait_until(
        lambda: (
            (s := http.get(f"/api/status/{scenario_id}").json())["status"]
            in ("completed", "failed")
            and s
        ),
        timeout=120,
        what="the generation to finish without anyone watching",
    )
    assert final["status"] == "completed", final
