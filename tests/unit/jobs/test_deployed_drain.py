"""The scheduled drain is a function of its own, every minute, with the room the config gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]


def test_the_app_schedules_drain_jobs_every_minute() -> None:
    from chalice.app import Rate, ScheduledEventConfig

    from app import app

    (drain,) = [source for source in app.event_sources if source.name == "drain_jobs"]
    assert isinstance(drain, ScheduledEventConfig)
    assert drain.handler_string == "chalicelib.handlers.jobs.drain_jobs"
    assert isinstance(drain.schedule_expression, Rate)
    assert drain.schedule_expression.to_string() == "rate(1 minute)"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_deployed_stage_gives_the_drain_five_minutes_and_512_mb(stage: str) -> None:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())

    assert config["stages"][stage]["lambda_functions"]["drain_jobs"] == {
        "lambda_timeout": 300,
        "lambda_memory_size": 512,
    }
