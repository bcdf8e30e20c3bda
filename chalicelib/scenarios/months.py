"""Calendar facts the scenarios need, spelled out in English so output never depends on a locale."""

from __future__ import annotations

import calendar

# `calendar.month_name` follows the process locale; stored scenarios must not.
MONTH_NAMES: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_name(month: int) -> str:
    """The English name of `month` (1 = January)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return MONTH_NAMES[month - 1]


def days_in_month(year: int, month: int) -> int:
    """How many days `month` of `year` has, leap years included."""
    return calendar.monthrange(year, month)[1]
