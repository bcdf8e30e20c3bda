"""What a scenario type must provide to the shared generation engine.

A recipe knows its business: who such a company is, how its year goes, and what its events
look like. The engine does everything else once for all types: cash chains, splitting a
month's budget into events, dates and ids.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, TypeVar

from chalicelib.scenarios.models import (
    BakeryDetails,
    BudgetLine,
    CompanyProfile,
    Currency,
    EventType,
    HotelDetails,
    Kpis,
    ScenarioType,
    StartupDetails,
)

# When in the month a kind of event happens: spread evenly over every day (`daily`), on any
# day, or on the first or last day.
Schedule = Literal["daily", "any_day", "first_day", "last_day"]

# Scenarios are set in a recent year; the range includes a leap year, 2024.
FISCAL_YEARS = (2021, 2025)

DetailsT = TypeVar("DetailsT", bound=BakeryDetails | HotelDetails | StartupDetails)


@dataclass(frozen=True)
class Location:
    """Where a company may be, and how expensive it is there (100 = average)."""

    city: str
    country: str
    currency: Currency
    cost_level_pct: int


@dataclass(frozen=True)
class Basics:
    """The facts every profile has, drawn before the type-specific ones."""

    name: str
    location: Location
    fiscal_year: int
    headcount: int
    salary_cents: int
    rent_cents: int


@dataclass(frozen=True)
class Item:
    """One flavour of an event kind: its description, relative size and maybe counterparty."""

    description: str
    weight: int = 100
    counterparty: str = ""


@dataclass(frozen=True)
class EventKind:
    """How the events of one type look.

    An event's counterparty is its item's own, else `numbered` filled with the event's
    position (one per employee or customer), else a random pick from `counterparties`.
    """

    schedule: Schedule
    items: tuple[Item, ...]
    # Take items in turn, e.g. one bill per utility, instead of at random.
    rotate: bool = False
    counterparties: tuple[str, ...] = ()
    numbered: str = ""
    # Each event's weight varies by up to this many percent, so amounts are not uniform.
    jitter_pct: int = 15


@dataclass(frozen=True)
class MonthPlan:
    """What a recipe decides for one month; the engine adds the cash chain."""

    headcount: int
    hires: int
    kpis: Kpis
    budget: tuple[BudgetLine, ...]


def budget(*lines: tuple[EventType, int, int]) -> tuple[BudgetLine, ...]:
    """Budget lines from `(event type, amount cents, events)`, skipping empty amounts.

    A line never plans more events than it has cents, so every event is worth at least one.
    """
    return tuple(
        BudgetLine(event_type=event_type, amount_cents=amount, events=min(events, amount))
        for event_type, amount, events in lines
        if amount > 0 and events > 0
    )


def percent_of(amount: int, pct: int) -> int:
    """`pct` percent of `amount`, in whole cents."""
    return amount * pct // 100


def whole_units(cents: int) -> int:
    """`cents` rounded down to whole currency units: nobody agrees a salary or rent in cents."""
    return cents // 100 * 100


def varied(rng: random.Random, amount: int, spread_pct: int) -> int:
    """`amount` moved randomly by up to `spread_pct` percent either way."""
    return percent_of(amount, rng.randint(100 - spread_pct, 100 + spread_pct))


def headcount_path(
    rng: random.Random,
    initial: int,
    seasonal_extra: Sequence[int],
    growth_chance_pct: int,
    max_step: int,
) -> list[tuple[int, int]]:
    """Twelve `(headcount, hires)`: a core team that sometimes grows, plus seasonal staff.

    Hires are the month's increase over the previous month; people leaving cost nothing.
    """
    core = initial
    previous = initial
    path: list[tuple[int, int]] = []
    for extra in seasonal_extra:
        if rng.randint(1, 100) <= growth_chance_pct:
            core += rng.randint(1, max_step)
        headcount = core + extra
        path.append((headcount, max(0, headcount - previous)))
        previous = headcount
    return path


def people(first_names: Sequence[str], last_names: Sequence[str]) -> tuple[str, ...]:
    """Every "first last" combination, for counterparties that are private persons."""
    return tuple(f"{first} {last}" for first in first_names for last in last_names)


class Recipe(ABC, Generic[DetailsT]):
    """One scenario type's business knowledge; `DetailsT` is its profile's `details` model."""

    details_model: type[DetailsT]
    scenario_type: ClassVar[ScenarioType]
    industry: ClassVar[str]
    locations: ClassVar[tuple[Location, ...]]
    name_prefixes: ClassVar[tuple[str, ...]]
    name_suffixes: ClassVar[tuple[str, ...]]
    age_years: ClassVar[tuple[int, int]]
    headcount_range: ClassVar[tuple[int, int]]
    salary_range_cents: ClassVar[tuple[int, int]]
    rent_range_cents: ClassVar[tuple[int, int]]

    def profile(self, rng: random.Random) -> CompanyProfile:
        """A new company of this type, drawn from `rng`."""
        location = rng.choice(self.locations)
        basics = Basics(
            name=f"{rng.choice(self.name_prefixes)} {rng.choice(self.name_suffixes)}",
            location=location,
            fiscal_year=rng.randint(*FISCAL_YEARS),
            headcount=rng.randint(*self.headcount_range),
            salary_cents=whole_units(
                percent_of(rng.randint(*self.salary_range_cents), location.cost_level_pct)
            ),
            rent_cents=whole_units(
                percent_of(rng.randint(*self.rent_range_cents), location.cost_level_pct)
            ),
        )
        details = self.details(basics, rng)
        return CompanyProfile(
            scenario_type=self.scenario_type,
            name=basics.name,
            industry=self.industry,
            city=location.city,
            country=location.country,
            currency=location.currency,
            founded_year=basics.fiscal_year - rng.randint(*self.age_years),
            fiscal_year=basics.fiscal_year,
            opening_cash_cents=self.opening_cash_cents(basics, details, rng),
            initial_headcount=basics.headcount,
            monthly_rent_cents=basics.rent_cents,
            average_monthly_salary_cents=basics.salary_cents,
            description=self.description(basics, details),
            details=details,
        )

    def own_details(self, profile: CompanyProfile) -> DetailsT:
        """`profile.details`, checked to be this recipe's kind."""
        if not isinstance(profile.details, self.details_model):
            raise TypeError(f"a {self.scenario_type} recipe got a {profile.scenario_type} profile")
        return profile.details

    @abstractmethod
    def details(self, basics: Basics, rng: random.Random) -> DetailsT:
        """The type-specific facts of a new company."""

    @abstractmethod
    def opening_cash_cents(self, basics: Basics, details: DetailsT, rng: random.Random) -> int:
        """Cash in the bank on the first day of the year."""

    @abstractmethod
    def description(self, basics: Basics, details: DetailsT) -> str:
        """One or two sentences about the company."""

    @abstractmethod
    def plan_year(self, profile: CompanyProfile, rng: random.Random) -> list[MonthPlan]:
        """Twelve month plans, January first."""

    @abstractmethod
    def event_kinds(self, profile: CompanyProfile) -> Mapping[EventType, EventKind]:
        """How each event type in this recipe's budgets looks for `profile`."""


# Event kinds every type shares.
PAYROLL = EventKind(
    schedule="last_day",
    items=(Item("Monthly salary"),),
    numbered="Employee {n:03d}",
    jitter_pct=25,
)
HIRE = EventKind(
    schedule="any_day",
    items=(Item("Recruitment fee"), Item("Onboarding and equipment", 70)),
    counterparties=("TalentBridge Recruiting", "Staffwise Agency", "HireLocal"),
)
UTILITIES = EventKind(
    schedule="any_day",
    items=(
        Item("Electricity bill", 55, "Metro Power"),
        Item("Gas bill", 30, "CityGas"),
        Item("Water bill", 15, "Municipal Water Board"),
    ),
    rotate=True,
    jitter_pct=0,
)


def rent_kind(description: str, landlord: str) -> EventKind:
    """The month's rent, paid to the landlord on the first day."""
    return EventKind(schedule="first_day", items=(Item(description, counterparty=landlord),))
