"""Settings: read from the environment once, blank means unset, bad values are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.settings import Settings, get_settings


def test_environment_names_map_to_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QSTASH_TOKEN", "s3cr3t-value")
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", "http://127.0.0.1:8079")
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", "rt")
    monkeypatch.setenv("LONGHAUL_STAGE", "dev")
    get_settings.cache_clear()
    settings = get_settings()
    get_settings.cache_clear()
    assert settings.stage == "dev"
    assert settings.qstash_configured
    assert settings.redis_configured
    assert settings.qstash_token is not None
    assert settings.qstash_token.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)  # secrets never reach a log line


def test_blank_variables_mean_not_configured() -> None:
    settings = Settings.model_validate({"QSTASH_TOKEN": "  ", "UPSTASH_REDIS_REST_URL": ""})
    assert not settings.qstash_configured
    assert not settings.redis_configured


def test_region_falls_back_to_aws_default_region() -> None:
    assert Settings.model_validate({"AWS_DEFAULT_REGION": "eu-west-1"}).aws_region == "eu-west-1"
    both = Settings.model_validate({"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert both.aws_region == "ap-south-1"


def test_a_bad_timeout_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"backend_timeout_seconds|BACKEND_TIMEOUT_SECONDS"):
        Settings.model_validate({"BACKEND_TIMEOUT_SECONDS": "0"})


@pytest.mark.parametrize(
    "name",
    ["LONGHAUL_STAGE", "QSTASH_URL", "WORKER_RETRIES", "BACKEND_TIMEOUT_SECONDS", "AWS_REGION"],
)
def test_a_blank_variable_with_a_default_takes_the_default(name: str) -> None:
    assert Settings.model_validate({name: "  "}) == Settings.model_validate({})
