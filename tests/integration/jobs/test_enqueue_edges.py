"""The producer's edges: an unreachable Redis is one narrow error, and a drain request that
QStash does not take is logged and counted, never raised."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chalicelib.jobs.drain_request import drain_deduplication_id, request_drain
from chalicelib.jobs.queue import EnqueueFailedError, enqueue_job
from chalicelib.settings import Settings, get_settings

LOCAL_QSTASH_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0="


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Settings read again from the (patched) environment, and again after the test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_unreachable_redis_fails_the_enqueue_with_one_narrow_error(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("UPSTASH_REDIS_REST_URL", closed_port_url())
    monkeypatch.setenv("UPSTASH_REDIS_REST_TOKEN", "token")

    with pytest.raises(EnqueueFailedError, match="ConnectError"):
        enqueue_job("note", {"text": "lost?"})


def test_an_unconfigured_redis_fails_the_enqueue_with_the_same_error(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.delenv("UPSTASH_REDIS_REST_URL", raising=False)

    with pytest.raises(EnqueueFailedError, match="UPSTASH_REDIS_REST_URL"):
        enqueue_job("note", {"text": "lost?"})


def test_a_drain_request_qstash_does_not_take_is_counted_not_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings.model_validate(
        {
            "QSTASH_URL": closed_port_url(),
            "QSTASH_TOKEN": LOCAL_QSTASH_TOKEN,
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        }
    )

    assert request_drain(["a" * 32], ["note"], settings) is False
    assert '"JobDrainRequestFailed"' in capsys.readouterr().out


@pytest.mark.parametrize(
    "missing",
    [{"JOB_DRAIN_ON_ENQUEUE": "false"}, {"QSTASH_TOKEN": ""}, {"PUBLIC_BASE_URL": ""}],
)
def test_no_drain_is_requested_when_off_or_without_qstash_or_a_public_url(
    missing: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.model_validate(
        {
            # Were a publish tried, it would fail and be counted.
            "QSTASH_URL": closed_port_url(),
            "QSTASH_TOKEN": LOCAL_QSTASH_TOKEN,
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            **missing,
        }
    )

    assert request_drain(["a" * 32], ["note"], settings) is False
    assert "JobDrainRequestFailed" not in capsys.readouterr().out


def test_the_same_jobs_always_ask_for_the_same_drain() -> None:
    ids = ["b" * 32, "a" * 32]

    assert drain_deduplication_id(ids) == drain_deduplication_id(list(reversed(ids)))
    assert drain_deduplication_id(ids) != drain_deduplication_id(ids[:1])
    assert len(drain_deduplication_id(["c" * 32] * 100)) <= 200
