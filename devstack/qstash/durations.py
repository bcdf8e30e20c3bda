"""Parsing of the duration formats QStash accepts in headers and sees in `Retry-After`."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
# Ten years: anything longer is a typo or an attack on the timer arithmetic, not a real delay.
MAX_DURATION_SECONDS = 10 * 365 * 86400.0


def parse_duration(text: str) -> float:
    """Seconds in a duration like `10s`, `1d10h30m`, `6m5s`, `500ms`, or a bare number of seconds.

    Raises ValueError for anything else, for negative values and for absurdly long durations.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
    elif _DURATION.fullmatch(value):
        seconds = sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(value)
        )
    else:
        raise ValueError(f"invalid duration {text!r}")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"duration {text!r} is too long")
    return seconds


def parse_retry_after(text: str, now: datetime) -> float | None:
    """Seconds to wait according to a `Retry-After` value, or None when it is unusable.

    Accepts delta seconds (`120`), an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`) and the Go-style
    durations QStash also honours (`6m5s`). A date in the past means "now" (0 seconds).
    """
    try:
        return parse_duration(text)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return min(max(0.0, (moment - now).total_seconds()), MAX_DURATION_SECONDS)
