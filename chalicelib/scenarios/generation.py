"""The generation stages: profile, trends, and one month of events at a time.

Each stage is a pure function of its arguments and the seed, so a worker that crashed can
rerun any stage alone and get byte-identical output. Every stage draws from its own
`random.Random`, seeded with a string naming (seed, type, stage, month): string seeds are
hashed with SHA-512 by `random`, unlike `hash()`, which differs between processes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from operator import itemgetter

from chalicelib.scenarios.models import (
    EVENT_CATEGORY,
    BudgetLine,
    BusinessEvent,
    CashFlow,
    Category,
    CompanyProfile,
    EventType,
    MonthlyTrend,
    ScenarioType,
    cash_flow_of,
)
from chalicelib.scenarios.money import split_proportionally
from chalicelib.scenarios.months import days_in_month, month_name
from chalicelib.scenarios.recipes import recipe_for
from chalicelib.scenarios.recipes.base import EventKind, Item, Schedule


def _stage_random(
    seed: int, scenario_type: ScenarioType, stage: str, month: int = 0
) -> random.Random:
    """The random source of one stage; independent of every other stage and process."""
    # Reproducible simulation data, not secrets: a seeded PRNG is the point.
    return random.Random(f"longhaul|{seed}|{scenario_type}|{stage}|{month}")  # noqa: S311


def generate_profile(scenario_type: ScenarioType, seed: int) -> CompanyProfile:
    """Stage 1: the company, its facts and its type-specific details."""
    return recipe_for(scenario_type).profile(_stage_random(seed, scenario_type, "profile"))


def generate_trends(profile: CompanyProfile, seed: int) -> list[MonthlyTrend]:
    """Stage 2: twelve monthly plans whose cash chains from the profile's opening cash."""
    recipe = recipe_for(profile.scenario_type)
    plans = recipe.plan_year(profile, _stage_random(seed, profile.scenario_type, "trends"))
    if len(plans) != 12:
        raise RuntimeError(f"the {profile.scenario_type} recipe planned {len(plans)} months")
    trends = []
    cash = profile.opening_cash_cents
    for month, plan in enumerate(plans, start=1):
        totals = _budget_totals(plan.budget)
        closing = cash + totals["revenue"] + totals["funding"] - totals["expenses"]
        trends.append(
            MonthlyTrend(
                month=month,
                month_name=month_name(month),
                opening_cash_cents=cash,
                revenue_cents=totals["revenue"],
                expenses_cents=totals["expenses"],
                funding_cents=totals["funding"],
                closing_cash_cents=closing,
                headcount=plan.headcount,
                hires=plan.hires,
                kpis=plan.kpis,
                budget=plan.budget,
            )
        )
        cash = closing
    return trends


def generate_month_events(
    profile: CompanyProfile, trends: Sequence[MonthlyTrend], month: int, seed: int
) -> list[BusinessEvent]:
    """Stage 3: the events of `month`, summing exactly to its trend's budget, in id order.

    Only the month's own trend is read, so any month can be generated alone.
    """
    trend = _trend_of(trends, month)
    kinds = recipe_for(profile.scenario_type).event_kinds(profile)
    rng = _stage_random(seed, profile.scenario_type, "events", month)
    days = days_in_month(profile.fiscal_year, month)
    drafts: list[tuple[int, EventType, Category, int, str, str]] = []
    for line in trend.budget:
        kind = kinds[line.event_type]
        category = EVENT_CATEGORY[line.event_type]
        for index, (item, amount, day) in enumerate(_line_events(line, kind, days, rng)):
            counterparty = _counterparty(kind, item, index, rng)
            drafts.append((day, line.event_type, category, amount, item.description, counterparty))
    # A stable sort: within a day, events keep budget order, so ids are reproducible.
    drafts.sort(key=itemgetter(0))
    return [
        BusinessEvent(
            event_id=f"m{month:02d}-{number:06d}",
            month=month,
            day=day,
            event_type=event_type,
            category=category,
            amount_cents=amount,
            description=description,
            counterparty=counterparty,
        )
        for number, (day, event_type, category, amount, description, counterparty) in enumerate(
            drafts, start=1
        )
    ]


def _budget_totals(lines: Sequence[BudgetLine]) -> dict[CashFlow, int]:
    totals: dict[CashFlow, int] = {"revenue": 0, "funding": 0, "expenses": 0}
    for line in lines:
        totals[cash_flow_of(line.event_type, EVENT_CATEGORY[line.event_type])] += line.amount_cents
    return totals


def _trend_of(trends: Sequence[MonthlyTrend], month: int) -> MonthlyTrend:
    matching = [trend for trend in trends if trend.month == month]
    if len(matching) != 1:
        raise ValueError(f"expected one trend for month {month}, found {len(matching)}")
    return matching[0]


def _line_events(
    line: BudgetLine, kind: EventKind, days: int, rng: random.Random
) -> list[tuple[Item, int, int]]:
    """`(item, amount, day)` for each event of a budget line; amounts sum to the line's."""
    count = line.events
    items = kind.items
    chosen = (
        [items[index % len(items)] for index in range(count)]
        if kind.rotate
        else [rng.choice(items) for _ in range(count)]
    )
    low, high = 100 - kind.jitter_pct, 100 + kind.jitter_pct
    amounts = split_proportionally(
        line.amount_cents, [item.weight * rng.randint(low, high) for item in chosen]
    )
    return [
        (item, amount, _day(kind.schedule, index, count, days, rng))
        for index, (item, amount) in enumerate(zip(chosen, amounts, strict=True))
    ]


def _day(schedule: Schedule, index: int, count: int, days: int, rng: random.Random) -> int:
    if schedule == "daily":
        # Evenly spread: `count` a multiple of `days` gives the same number on every day.
        return index * days // count + 1
    if schedule == "first_day":
        return 1
    if schedule == "last_day":
        return days
    return rng.randint(1, days)


def _counterparty(kind: EventKind, item: Item, index: int, rng: random.Random) -> str:
    if item.counterparty:
        return item.counterparty
    if kind.numbered:
        return kind.numbered.format(n=index + 1)
    return rng.choice(kind.counterparties)
