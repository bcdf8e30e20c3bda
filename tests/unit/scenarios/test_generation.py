"""The generator: deterministic per seed, sized per type, and exact to the cent."""

from __future__ import annotations

import calendar
import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from chalicelib.scenarios import (
    SCENARIO_TYPES,
    BusinessEvent,
    CompanyProfile,
    MonthlyTrend,
    ScenarioType,
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios.models import cash_flow_of

REPO_ROOT = Path(__file__).resolve().parents[3]
SEEDS = (1, 2, 3, 99, 2024)
# Event counts a year per type: "about 1,000-2,000", "about 5,000", "at least 20,000".
SIZE_BOUNDS: dict[ScenarioType, tuple[int, int]] = {
    "bakery": (1_000, 2_000),
    "hotel": (3_500, 8_000),
    "tech_startup": (20_000, 60_000),
}

Scenario = tuple[CompanyProfile, list[MonthlyTrend], list[list[BusinessEvent]]]


@cache
def scenario(scenario_type: ScenarioType, seed: int) -> Scenario:
    """A whole scenario, run the way the worker runs it: stage after stage."""
    profile = generate_profile(scenario_type, seed)
    trends = generate_trends(profile, seed)
    months = [generate_month_events(profile, trends, month, seed) for month in range(1, 13)]
    return profile, trends, months


def scenario_digest(scenario_type: ScenarioType, seed: int) -> str:
    """A SHA-256 over every stage's JSON, in stage order."""
    profile, trends, months = scenario(scenario_type, seed)
    digest = hashlib.sha256(profile.model_dump_json().encode())
    for trend in trends:
        digest.update(trend.model_dump_json().encode())
    for events in months:
        for event in events:
            digest.update(event.model_dump_json().encode())
    return digest.hexdigest()


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
def test_the_same_seed_gives_identical_json(scenario_type: ScenarioType) -> None:
    profile, trends, months = scenario(scenario_type, 7)
    again = generate_profile(scenario_type, 7)
    assert again.model_dump_json() == profile.model_dump_json()
    again_trends = generate_trends(again, 7)
    assert [t.model_dump_json() for t in again_trends] == [t.model_dump_json() for t in trends]
    for month in (1, 6, 12):
        again_events = generate_month_events(again, again_trends, month, 7)
        assert [e.model_dump_json() for e in again_events] == [
            e.model_dump_json() for e in months[month - 1]
        ]


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_other_processes_with_other_hash_seeds_generate_the_same_bytes(hash_seed: str) -> None:
    program = (
        "import json\n"
        "from tests.unit.scenarios.test_generation import scenario_digest\n"
        "from chalicelib.scenarios import SCENARIO_TYPES\n"
        "print(json.dumps({t: scenario_digest(t, 11) for t in SCENARIO_TYPES}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed program
        [sys.executable, "-c", program],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    other_process = json.loads(result.stdout)
    assert other_process == {t: scenario_digest(t, 11) for t in SCENARIO_TYPES}


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
def test_different_seeds_give_different_scenarios(scenario_type: ScenarioType) -> None:
    digests = {scenario_digest(scenario_type, seed) for seed in SEEDS}
    assert len(digests) == len(SEEDS)
    profiles = {scenario(scenario_type, seed)[0].model_dump_json() for seed in SEEDS}
    assert len(profiles) == len(SEEDS)


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_each_type_generates_its_expected_volume(scenario_type: ScenarioType, seed: int) -> None:
    _, _, months = scenario(scenario_type, seed)
    low, high = SIZE_BOUNDS[scenario_type]
    assert low <= sum(len(events) for events in months) <= high


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_trends_chain_from_the_opening_cash(scenario_type: ScenarioType, seed: int) -> None:
    profile, trends, _ = scenario(scenario_type, seed)
    assert [trend.month for trend in trends] == list(range(1, 13))
    assert [trend.month_name for trend in trends] == list(calendar.month_name)[1:]
    assert trends[0].opening_cash_cents == profile.opening_cash_cents
    for trend in trends:
        assert trend.closing_cash_cents == (
            trend.opening_cash_cents
            + trend.revenue_cents
            + trend.funding_cents
            - trend.expenses_cents
        )
    for previous, following in itertools.pairwise(trends):
        assert following.opening_cash_cents == previous.closing_cash_cents


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_each_months_events_sum_exactly_to_its_trend(
    scenario_type: ScenarioType, seed: int
) -> None:
    _, trends, months = scenario(scenario_type, seed)
    for trend, events in zip(trends, months, strict=True):
        sums = Counter[str]()
        for event in events:
            sums[cash_flow_of(event.event_type, event.category)] += event.amount_cents
        assert sums["revenue"] == trend.revenue_cents, trend.month_name
        assert sums["expenses"] == trend.expenses_cents, trend.month_name
        assert sums["funding"] == trend.funding_cents, trend.month_name
        by_type = Counter[str]()
        for event in events:
            by_type[event.event_type] += event.amount_cents
        assert by_type == {line.event_type: line.amount_cents for line in trend.budget}


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_events_have_real_dates_and_unique_sorted_ids(
    scenario_type: ScenarioType, seed: int
) -> None:
    profile, _, months = scenario(scenario_type, seed)
    ids: list[str] = []
    for month, events in enumerate(months, start=1):
        assert events, f"no events in month {month}"
        last_day = calendar.monthrange(profile.fiscal_year, month)[1]
        assert all(event.month == month for event in events)
        assert all(1 <= event.day <= last_day for event in events)
        # Ids follow dates within a month.
        assert [event.day for event in events] == sorted(event.day for event in events)
        ids.extend(event.event_id for event in events)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
@pytest.mark.parametrize("month", [1, 2, 7, 12])
def test_a_month_generated_alone_equals_the_same_month_of_a_full_run(
    scenario_type: ScenarioType, month: int
) -> None:
    _, _, months = scenario(scenario_type, 5)
    # As after a crash: profile and trends read back from storage, only this month rerun.
    profile = CompanyProfile.model_validate_json(
        generate_profile(scenario_type, 5).model_dump_json()
    )
    trends = [
        MonthlyTrend.model_validate_json(trend.model_dump_json())
        for trend in generate_trends(profile, 5)
    ]
    assert generate_month_events(profile, trends, month, 5) == months[month - 1]


def test_february_of_a_leap_year_gets_its_29th_day() -> None:
    seed = next(s for s in range(200) if generate_profile("bakery", s).fiscal_year == 2024)
    profile, _, months = scenario("bakery", seed)
    assert profile.fiscal_year == 2024
    assert max(event.day for event in months[1]) == 29


def test_the_startup_receives_its_round_once_in_the_planned_month() -> None:
    profile, trends, months = scenario("tech_startup", 3)
    details = profile.details
    assert details.kind == "tech_startup"
    funded = [trend.month for trend in trends if trend.funding_cents]
    assert funded == [details.planned_round_month]
    assert trends[funded[0] - 1].funding_cents == details.planned_round_cents
    funding_events = [e for events in months for e in events if e.event_type == "funding"]
    assert {e.category for e in funding_events} == {"inflow"}
    lead = max(funding_events, key=lambda event: event.amount_cents)
    assert lead.counterparty == details.lead_investor


@pytest.mark.parametrize("scenario_type", SCENARIO_TYPES)
def test_profile_details_and_kpis_match_the_type(scenario_type: ScenarioType) -> None:
    profile, trends, _ = scenario(scenario_type, 1)
    assert profile.scenario_type == scenario_type
    assert profile.details.kind == scenario_type
    assert {trend.kpis.kind for trend in trends} == {scenario_type}
    assert profile.founded_year <= profile.fiscal_year


def test_the_hotel_sells_no_more_room_nights_than_it_has() -> None:
    _, trends, months = scenario("hotel", 2)
    for trend, events in zip(trends, months, strict=True):
        kpis = trend.kpis
        assert kpis.kind == "hotel"
        assert 0 < kpis.room_nights_sold <= kpis.room_nights_available
        bookings = [event for event in events if event.event_type == "room_booking"]
        assert len(bookings) == kpis.bookings


def test_months_outside_the_year_are_refused() -> None:
    profile, trends, _ = scenario("bakery", 1)
    with pytest.raises(ValueError, match="month 13"):
        generate_month_events(profile, trends, 13, 1)
    with pytest.raises(ValueError, match="month 4"):
        generate_month_events(profile, trends[:3], 4, 1)


def test_an_unknown_scenario_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario type 'castle'"):
        generate_profile("castle", 1)  # type: ignore[arg-type]
