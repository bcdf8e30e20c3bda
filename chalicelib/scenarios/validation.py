"""The consistency validation of a stored scenario: does its history reconcile to the cent?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chalicelib.scenarios.models import (
    BusinessEvent,
    CashFlow,
    CompanyProfile,
    MonthlyTrend,
    ValidationCheck,
    ValidationReport,
    ValidationTotals,
    cash_flow_of,
)
from chalicelib.scenarios.money import format_cents
from chalicelib.scenarios.months import days_in_month, month_name

# How many offending events a message names; the count is always complete.
EXAMPLES_SHOWN = 5
FLOWS: tuple[CashFlow, ...] = ("revenue", "funding", "expenses")


@dataclass
class _Tally:
    """What one pass over the events learns; events themselves are not kept."""

    flows: dict[CashFlow, list[int]] = field(
        default_factory=lambda: {flow: [0] * 13 for flow in FLOWS}
    )
    counts: list[int] = field(default_factory=lambda: [0] * 13)
    inflow: int = 0
    outflow: int = 0
    seen_ids: set[str] = field(default_factory=set)
    duplicates: list[str] = field(default_factory=list)
    misplaced_ids: list[str] = field(default_factory=list)
    bad_dates: list[str] = field(default_factory=list)


def validate_scenario(
    profile: CompanyProfile, trends: Sequence[MonthlyTrend], events: Iterable[BusinessEvent]
) -> ValidationReport:
    """Check that the trends chain and that the events reconcile with them, month by month.

    `events` is consumed once, in any order, so it can stream from storage page by page.
    Every check is reported, passed or not; `ok` is true only when all of them passed.
    """
    tally = _tally(profile, events)
    final_cash = profile.opening_cash_cents + tally.inflow - tally.outflow
    expected_final = trends[-1].closing_cash_cents if trends else profile.opening_cash_cents
    checks = [
        *_trend_checks(profile, trends),
        *_month_checks(profile, trends, tally),
        *_event_checks(tally),
        _amount_check(
            "final cash",
            expected_final,
            final_cash,
            profile.currency,
            "the opening cash plus every inflow minus every outflow",
            "the last trend's closing cash",
        ),
    ]
    return ValidationReport(
        ok=all(check.ok for check in checks),
        checks=tuple(checks),
        totals=ValidationTotals(
            events_count=sum(tally.counts),
            total_inflow_cents=tally.inflow,
            total_outflow_cents=tally.outflow,
            final_cash_cents=final_cash,
        ),
    )


def _tally(profile: CompanyProfile, events: Iterable[BusinessEvent]) -> _Tally:
    tally = _Tally()
    for event in events:
        month = event.month
        tally.counts[month] += 1
        tally.flows[cash_flow_of(event.event_type, event.category)][month] += event.amount_cents
        if event.category == "inflow":
            tally.inflow += event.amount_cents
        else:
            tally.outflow += event.amount_cents
        if event.event_id in tally.seen_ids:
            tally.duplicates.append(f"{event.event_id} in {month_name(month)}")
        tally.seen_ids.add(event.event_id)
        if not event.event_id.startswith(f"m{month:02d}-"):
            tally.misplaced_ids.append(f"{event.event_id} is in {month_name(month)}")
        if event.day > days_in_month(profile.fiscal_year, month):
            tally.bad_dates.append(
                f"{event.event_id} is dated {event.day} {month_name(month)} {profile.fiscal_year}"
            )
    return tally


def _trend_checks(profile: CompanyProfile, trends: Sequence[MonthlyTrend]) -> list[ValidationCheck]:
    months = [trend.month for trend in trends]
    checks = [
        ValidationCheck(
            name="trend count",
            ok=len(trends) == 12,
            expected=12,
            actual=len(trends),
            message=f"{len(trends)} monthly trends; a scenario has 12",
        ),
        ValidationCheck(
            name="trend months",
            ok=months == list(range(1, 13)),
            expected="1-12 in order",
            actual=",".join(map(str, months)),
            message="trends run January to December"
            if months == list(range(1, 13))
            else f"trends are for months {months}, not January to December in order",
        ),
    ]
    previous_closing = profile.opening_cash_cents
    previous_label = "the company's opening cash"
    for trend in trends:
        label = _month_label(trend.month)
        checks.append(
            _amount_check(
                f"month {trend.month:02d} opening cash",
                previous_closing,
                trend.opening_cash_cents,
                profile.currency,
                f"{label}: the opening cash",
                previous_label,
            )
        )
        checks.append(
            _amount_check(
                f"month {trend.month:02d} closing cash",
                trend.opening_cash_cents
                + trend.revenue_cents
                + trend.funding_cents
                - trend.expenses_cents,
                trend.closing_cash_cents,
                profile.currency,
                f"{label}: the closing cash",
                "opening cash plus revenue and funding minus expenses",
            )
        )
        previous_closing = trend.closing_cash_cents
        previous_label = f"{trend.month_name}'s closing cash"
    return checks


def _month_checks(
    profile: CompanyProfile, trends: Sequence[MonthlyTrend], tally: _Tally
) -> list[ValidationCheck]:
    by_month = {trend.month: trend for trend in reversed(trends)}
    checks = []
    for month in range(1, 13):
        label = _month_label(month)
        trend = by_month.get(month)
        if trend is None:
            checks.append(
                ValidationCheck(
                    name=f"month {month:02d} trend",
                    ok=False,
                    expected=1,
                    actual=0,
                    message=f"{label}: no trend, so its {tally.counts[month]} events cannot "
                    "be reconciled",
                )
            )
            continue
        for flow in FLOWS:
            checks.append(
                _amount_check(
                    f"month {month:02d} {flow}",
                    trend.planned_cents(flow),
                    tally.flows[flow][month],
                    profile.currency,
                    f"{label}: the {flow} events' total",
                    f"the trend's {flow}",
                )
            )
        count = tally.counts[month]
        checks.append(
            ValidationCheck(
                name=f"month {month:02d} events",
                ok=count > 0,
                expected="at least 1",
                actual=count,
                message=f"{label}: {count} events",
            )
        )
    return checks


def _event_checks(tally: _Tally) -> list[ValidationCheck]:
    return [
        _problem_check("unique event ids", tally.duplicates, "duplicated event ids"),
        _problem_check("event ids match months", tally.misplaced_ids, "ids naming another month"),
        _problem_check("event dates", tally.bad_dates, "events on days their month lacks"),
    ]


def _amount_check(
    name: str, expected: int, actual: int, currency: str, subject: str, reference: str
) -> ValidationCheck:
    """Compare two amounts; the message reads "<subject> is X but <reference> is Y"."""
    if actual == expected:
        message = f"{subject} matches {reference}: {format_cents(actual, currency)}"
    else:
        message = (
            f"{subject} is {format_cents(actual, currency)} but {reference} is "
            f"{format_cents(expected, currency)}; difference "
            f"{format_cents(actual - expected, currency, signed=True)}"
        )
    return ValidationCheck(
        name=name, ok=actual == expected, expected=expected, actual=actual, message=message
    )


def _problem_check(name: str, problems: Sequence[str], what: str) -> ValidationCheck:
    """A check that passes when no event has the problem; the message names a few."""
    if not problems:
        return ValidationCheck(name=name, ok=True, expected=0, actual=0, message=f"no {what}")
    shown = ", ".join(problems[:EXAMPLES_SHOWN])
    more = f" and {len(problems) - EXAMPLES_SHOWN} more" if len(problems) > EXAMPLES_SHOWN else ""
    return ValidationCheck(
        name=name,
        ok=False,
        expected=0,
        actual=len(problems),
        message=f"{len(problems)} {what}: {shown}{more}",
    )


def _month_label(month: int) -> str:
    return f"{month_name(month)} (month {month})"
