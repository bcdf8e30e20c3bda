"""The health summary: which backends count, when the answer is 503, what callers see, caching."""

from __future__ import annotations

import threading

import pytest

from chalicelib.health import BackendProbe, HealthCache, HealthReport, check_health


def _answers() -> None:
    return None


def _fails() -> None:
    raise ConnectionError("connection refused")


def test_all_required_backends_answering_is_ok() -> None:
    report = check_health(
        "local",
        [
            BackendProbe("dynamodb", configured=True, required=True, ping=_answers),
            BackendProbe("redis", configured=True, required=True, ping=_answers),
        ],
    )
    assert report.status == "ok"
    assert report.backends["redis"].reachable is True
    assert report.backends["redis"].latency_ms is not None


def test_a_required_backend_down_makes_the_app_unavailable() -> None:
    report = check_health(
        "local",
        [
            BackendProbe("dynamodb", configured=True, required=True, ping=_answers),
            BackendProbe("redis", configured=True, required=True, ping=_fails),
        ],
    )
    assert report.status == "unavailable"
    assert report.backends["redis"].reachable is False
    assert report.backends["redis"].error == "ConnectionError: connection refused"


def test_an_unconfigured_required_backend_is_unavailable_and_never_pinged() -> None:
    def must_not_run() -> None:
        pytest.fail("an unconfigured backend was pinged")

    report = check_health(
        "dev", [BackendProbe("redis", configured=False, required=True, ping=must_not_run)]
    )
    assert report.status == "unavailable"
    assert report.backends["redis"].configured is False
    assert report.backends["redis"].reachable is None


def test_an_optional_backend_down_does_not_fail_health() -> None:
    report = check_health(
        "dev",
        [
            BackendProbe("dynamodb", configured=True, required=True, ping=_answers),
            BackendProbe("qstash", configured=True, required=False, ping=_fails),
        ],
    )
    assert report.status == "ok"
    assert report.backends["qstash"].reachable is False


def test_probes_run_concurrently() -> None:
    # Each probe waits for the other two: run one after another, they would all break the barrier.
    barrier = threading.Barrier(3, timeout=5)
    probes = [
        BackendProbe(f"b{i}", configured=True, required=True, ping=barrier.wait) for i in range(3)
    ]
    report = check_health("local", probes)
    assert report.status == "ok", report


def test_outside_the_local_stage_a_backend_error_is_not_shown_to_callers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probes = [BackendProbe("redis", configured=True, required=True, ping=_fails)]
    hidden = check_health("dev", probes).backends["redis"]
    assert hidden.error == "unreachable"
    assert (hidden.configured, hidden.reachable) == (True, False)
    # The detail is not lost: the operator finds it in the log.
    assert [(r.getMessage(), getattr(r, "error", None)) for r in caplog.records] == [
        ("backend unreachable", "ConnectionError: connection refused")
    ]
    assert check_health("local", probes).backends["redis"].error == (
        "ConnectionError: connection refused"
    )


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_report_is_reused_within_the_window_then_checked_again() -> None:
    pings = 0

    def counting_ping() -> None:
        nonlocal pings
        pings += 1

    def check() -> HealthReport:
        return check_health("dev", [BackendProbe("redis", True, True, counting_ping)])

    clock = _Clock()
    cache = HealthCache(ttl_seconds=10, clock=clock)
    first = cache.report(check)
    clock.now += 9.9
    assert cache.report(check) is first
    assert pings == 1
    clock.now += 0.1
    assert cache.report(check) is not first
    assert pings == 2


def test_a_cleared_cache_checks_again() -> None:
    checks: list[HealthReport] = []

    def check() -> HealthReport:
        checks.append(check_health("dev", [BackendProbe("redis", True, True, _answers)]))
        return checks[-1]

    cache = HealthCache(ttl_seconds=10, clock=_Clock())
    cache.report(check)
    cache.clear()
    cache.report(check)
    assert len(checks) == 2
