"""Cron expressions as QStash accepts them: five fields, optionally prefixed by `CRON_TZ=Zone`."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

TIMEZONE_PREFIX = "CRON_TZ="


class CronExpression:
    """A validated cron expression that can tell when it next fires."""

    def __init__(self, text: str) -> None:
        """Parse `text`; raises ValueError for anything but a valid five-field expression."""
        fields = text.split()
        zone: tzinfo = UTC
        if fields and fields[0].startswith(TIMEZONE_PREFIX):
            zone_name = fields.pop(0)[len(TIMEZONE_PREFIX) :]
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {zone_name!r}") from exc
        # QStash's resolution is one minute: a sixth (seconds) field is not allowed.
        if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
            raise ValueError(f"invalid cron expression {text!r}")
        self.text = text
        self._fields = " ".join(fields)
        self._zone = zone

    def next_after(self, moment: float) -> float:
        """The first firing time (unix seconds) strictly after `moment`."""
        start = datetime.fromtimestamp(moment, self._zone)
        return float(croniter(self._fields, start).get_next(float))
