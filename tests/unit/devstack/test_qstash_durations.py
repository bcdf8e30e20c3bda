"""Duration headers and Retry-After values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from devstack.qstash.durations import MAX_DURATION_SECONDS, parse_duration, parse_retry_after

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", 10),
        ("90", 90),
        ("2m", 120),
        ("1h", 3600),
        ("1d", 86400),
        ("1d10h30m", 86400 + 36000 + 1800),
        ("6m5s", 365),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        (" 3s ", 3),
        ("0s", 0),
    ],
)
def test_parse_duration_accepts_qstash_formats(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "-5s", "10x", "1 h", "ten seconds", "1e9s", "5s3"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_parse_duration_rejects_absurd_lengths() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration(f"{int(MAX_DURATION_SECONDS) + 1}s")
    with pytest.raises(ValueError, match="too long"):
        parse_duration("9" * 400 + "d")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        ("6m5s", 365),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90),
        (format_datetime(NOW - timedelta(minutes=5), usegmt=True), 0),
    ],
)
def test_retry_after_accepts_seconds_http_dates_and_durations(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "soon", "Wed, 99 Foo 2015", "-3"])
def test_retry_after_ignores_values_it_cannot_read(value: str) -> None:
    assert parse_retry_after(value, NOW) is None
