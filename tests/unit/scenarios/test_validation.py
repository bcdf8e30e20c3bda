"""The consistency validation: passes on generated scenarios, and names what breaks."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest

from chalicelib.scenarios import (
    SCENARIO_TYPES,
    BusinessEvent,
    CompanyProfile,
    MonthlyTrend,
    ScenarioType,
    ValidationReport,
    generate_month_events,
    generate_profile,
    generate_trends,
    validate_scenario,
)

Scenario = tuple[CompanyProfile, list[MonthlyTrend], list[BusinessEvent]]


@cache
def scenario(scenario_type: ScenarioType, seed: int) -> Scenario:
    profile = generate_profile(scenario_type, seed)
    trends = generate_trends(profile, seed)
    events = [
        event
        for month in range(1, 13)
        for event in generate_month_events(profile, trends, month, seed)
    ]
    return profile, trends, events


def failed_names(report: ValidationReport) -> set[str]:
    return {check.name for check in report.failures}


def first_event(events: list[BusinessEvent], month: int, category: str) -> int:
    return next(
        index
        for index, event in enumerate(events)
        if event.month == month and event.category == category and event.event_type != "funding"
    )


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("seed", [1, 8])
def test_a_generated_scenario_passes(scenario_type: ScenarioType, seed: int) -> None:
    profile, trends, events = scenario(scenario_type, seed)
    report = validate_scenario(profile, trends, events)
    assert report.ok, [check.message for check in report.failures]
    assert report.failures == ()
    assert report.totals.events_count == len(events)
    assert report.totals.final_cash_cents == trends[-1].closing_cash_cents
    inflow = sum(event.amount_cents for event in events if event.category == "inflow")
    assert report.totals.total_inflow_cents == inflow
    # Every month is checked for each money flow and for having events at all.
    names = {check.name for check in report.checks}
    assert {f"month {m:02d} {flow}" for m in range(1, 13) for flow in ("revenue", "expenses")} <= (
        names
    )


def test_events_are_consumed_once_as_a_stream() -> None:
    profile, trends, events = scenario("hotel", 1)
    pulled = 0

    def pages() -> Iterator[BusinessEvent]:
        nonlocal pulled
        for start in range(0, len(events), 100):
            for event in events[start : start + 100]:
                pulled += 1
                yield event

    assert validate_scenario(profile, trends, pages()).ok
    assert pulled == len(events)


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
def test_one_changed_amount_fails_its_month(scenario_type: ScenarioType) -> None:
    profile, trends, events = scenario(scenario_type, 1)
    tampered = list(events)
    index = first_event(tampered, 3, "inflow")
    tampered[index] = tampered[index].model_copy(
        update={"amount_cents": tampered[index].amount_cents + 1}
    )
    report = validate_scenario(profile, trends, tampered)
    assert not report.ok
    assert failed_names(report) == {"month 03 revenue", "final cash"}
    month_check = next(c for c in report.failures if c.name == "month 03 revenue")
    assert "March" in month_check.message
    assert f"+0.01 {profile.currency}" in month_check.message
    assert month_check.actual == trends[2].revenue_cents + 1


def test_one_dropped_event_fails_its_month() -> None:
    profile, trends, events = scenario("bakery", 1)
    index = first_event(events, 8, "outflow")
    dropped = events[index]
    report = validate_scenario(profile, trends, events[:index] + events[index + 1 :])
    assert failed_names(report) == {"month 08 expenses", "final cash"}
    month_check = next(c for c in report.failures if c.name == "month 08 expenses")
    assert "August" in month_check.message
    assert month_check.expected == trends[7].expenses_cents
    assert month_check.actual == trends[7].expenses_cents - dropped.amount_cents
    assert report.totals.events_count == len(events) - 1


def test_one_duplicated_event_fails_its_id_and_its_month() -> None:
    profile, trends, events = scenario("tech_startup", 1)
    index = first_event(events, 11, "inflow")
    report = validate_scenario(profile, trends, [*events, events[index]])
    assert failed_names(report) == {"unique event ids", "month 11 revenue", "final cash"}
    duplicate_check = next(c for c in report.failures if c.name == "unique event ids")
    assert duplicate_check.actual == 1
    assert events[index].event_id in duplicate_check.message
    assert "November" in duplicate_check.message


def test_a_tampered_trend_revenue_breaks_its_cash_chain_and_its_events() -> None:
    profile, trends, events = scenario("hotel", 1)
    tampered = list(trends)
    tampered[4] = tampered[4].model_copy(update={"revenue_cents": trends[4].revenue_cents + 500})
    report = validate_scenario(profile, tampered, events)
    assert failed_names(report) == {"month 05 closing cash", "month 05 revenue"}
    assert all("May" in check.message for check in report.failures)


def test_a_tampered_closing_cash_breaks_the_chain_on_both_sides() -> None:
    profile, trends, events = scenario("bakery", 2)
    tampered = list(trends)
    tampered[5] = tampered[5].model_copy(update={"closing_cash_cents": 0})
    report = validate_scenario(profile, tampered, events)
    assert failed_names(report) == {"month 06 closing cash", "month 07 opening cash"}
    opening = next(c for c in report.failures if c.name == "month 07 opening cash")
    assert "July" in opening.message
    assert "June's closing cash" in opening.message


def test_a_missing_trend_fails() -> None:
    profile, trends, events = scenario("bakery", 1)
    report = validate_scenario(profile, trends[:9] + trends[10:], events)
    assert {"trend count", "trend months", "month 10 trend"} <= failed_names(report)
    assert any("October" in check.message for check in report.failures)


def test_an_impossible_date_fails() -> None:
    profile, trends, events = scenario("bakery", 1)
    tampered = list(events)
    index = next(i for i, event in enumerate(tampered) if event.month == 4)
    tampered[index] = tampered[index].model_copy(update={"day": 31})
    report = validate_scenario(profile, trends, tampered)
    assert failed_names(report) == {"event dates"}
    assert f"31 April {profile.fiscal_year}" in report.failures[0].message


def test_an_event_filed_under_another_month_fails() -> None:
    profile, trends, events = scenario("hotel", 3)
    tampered = list(events)
    index = first_event(tampered, 2, "outflow")
    tampered[index] = tampered[index].model_copy(update={"month": 3})
    report = validate_scenario(profile, trends, tampered)
    assert {"event ids match months", "month 02 expenses", "month 03 expenses"} <= failed_names(
        report
    )
    assert "final cash" not in failed_names(report)


def test_a_month_without_events_fails() -> None:
    profile, trends, events = scenario("bakery", 1)
    report = validate_scenario(profile, trends, [e for e in events if e.month != 9])
    assert "month 09 events" in failed_names(report)
