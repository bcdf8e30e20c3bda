"""What each kind of problem prints, and the exit code it ends with."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime

from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.publisher import QStashPublisher
from chalicelib.queue.qstash_client import qstash_client
from chalicelib.scenarios.records import ScenarioRecord
from chalicelib.scenarios.runtime import FAILURE_CALLBACK_PATH, scenario_store
from chalicelib.settings import get_settings
from tests.integration.cli.conftest import CliRunner


def test_help_lists_the_exit_codes(cli: CliRunner) -> None:
    result = cli.run("--help")
    assert result.returncode == 0
    assert "exit codes:" in result.stdout
    for code in ("0", "1", "2", "3", "4", "5", "6", "130"):
        assert f"\n  {code} " in result.stdout


def test_an_unknown_scenario_type_exits_2_with_the_field_reason(cli: CliRunner) -> None:
    result = cli.run("generate", "castle")
    assert result.returncode == 2, result.stdout
    assert "scenarioType: Input should be 'bakery', 'hotel' or 'tech_startup'" in result.stdout


def test_an_unknown_scenario_exits_3(cli: CliRunner) -> None:
    result = cli.run("status", "0" * 32)
    assert result.returncode == 3, result.stdout
    assert "no such scenario" in result.stdout


def test_retrying_a_completed_scenario_exits_4(
    cli: CliRunner, completed_bakery: tuple[subprocess.CompletedProcess[str], str]
) -> None:
    _, scenario_id = completed_bakery
    result = cli.run("retry", scenario_id)
    assert result.returncode == 4, result.stdout
    assert "only a failed scenario can be retried; this one is completed" in result.stdout


def test_an_api_nobody_answers_at_exits_6_on_a_one_shot_command(cli: CliRunner) -> None:
    result = cli.run("status", "0" * 32, "--url", "http://127.0.0.1:9")
    assert result.returncode == 6, result.stdout
    assert "cannot reach the API at http://127.0.0.1:9" in result.stdout


def test_a_failed_generation_exits_1_with_its_error_and_retry_follow_recovers_it(
    cli: CliRunner,
) -> None:
    get_settings.cache_clear()
    settings = get_settings()
    now = datetime.now(UTC)
    record = ScenarioRecord(
        scenario_id=uuid.uuid4().hex,
        scenario_type="bakery",
        seed=9,
        created_at=now,
        updated_at=now,
    )
    scenario_store(settings).create(record)
    # A worker nobody answers at: both attempts fail, then QStash calls the failure callback.
    QStashPublisher(qstash_client(settings)).publish(
        OutgoingMessage(
            url="http://127.0.0.1:9/",
            body={"scenarioId": record.scenario_id, "run": record.run},
            deduplication_id=f"{record.scenario_id}-dead",
            failure_callback=settings.public_url(FAILURE_CALLBACK_PATH),
            retries=1,
        )
    )

    failed = cli.run("status", record.scenario_id, "--follow", "--timeout", "60", timeout=90)
    assert failed.returncode == 1, failed.stdout
    assert "Generation failed after 2 attempts" in failed.stdout
    assert f"Retry with: longhaul retry {record.scenario_id} --follow" in failed.stdout

    recovered = cli.run("retry", record.scenario_id, "--follow", "--timeout", "60", timeout=90)
    assert recovered.returncode == 0, recovered.stdout
    assert f"Scenario {record.scenario_id} (run 2): queued" in recovered.stdout
    assert f"Completed bakery scenario {record.scenario_id}" in recovered.stdout
