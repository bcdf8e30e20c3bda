"""The data of a scenario: a company profile, twelve monthly trends and the business events.

Money is always integer cents and ratios are basis points or tenths, never floats: totals then
reconcile exactly, and every dump can be stored in DynamoDB, which refuses floats.

Type-specific facts live in one tagged sub-model per scenario type (`details` on the profile,
`kpis` on a trend), discriminated by their `kind`, which always equals the scenario type.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ScenarioType = Literal["bakery", "hotel", "tech_startup"]
SCENARIO_TYPES: tuple[ScenarioType, ...] = ("bakery", "hotel", "tech_startup")

Category = Literal["inflow", "outflow"]
Currency = Literal["EUR", "USD", "GBP", "CAD"]
FundingStage = Literal["pre_seed", "seed", "series_a"]

# Where a money movement lands when a month is reconciled.
CashFlow = Literal["revenue", "funding", "expenses"]

EventType = Literal[
    # Shared by every type.
    "payroll",
    "rent",
    "utilities",
    "marketing",
    "maintenance",
    "hire",
    # Bakery.
    "sale",
    "catering_order",
    "ingredients",
    "packaging",
    # Hotel.
    "room_booking",
    "cancellation_fee",
    "food_and_beverage",
    "food_supplies",
    "laundry",
    "housekeeping_supplies",
    "ota_commission",
    # Tech startup.
    "subscription",
    "funding",
    "cloud",
    "payment_fees",
    "software_tools",
    "contractors",
]

# Each event type moves money one way only; the generator and the validator both read this.
EVENT_CATEGORY: Mapping[EventType, Category] = MappingProxyType(
    {
        "payroll": "outflow",
        "rent": "outflow",
        "utilities": "outflow",
        "marketing": "outflow",
        "maintenance": "outflow",
        "hire": "outflow",
        "sale": "inflow",
        "catering_order": "inflow",
        "ingredients": "outflow",
        "packaging": "outflow",
        "room_booking": "inflow",
        "cancellation_fee": "inflow",
        "food_and_beverage": "inflow",
        "food_supplies": "outflow",
        "laundry": "outflow",
        "housekeeping_supplies": "outflow",
        "ota_commission": "outflow",
        "subscription": "inflow",
        "funding": "inflow",
        "cloud": "outflow",
        "payment_fees": "outflow",
        "software_tools": "outflow",
        "contractors": "outflow",
    }
)

Month = Annotated[int, Field(ge=1, le=12)]
Cents = Annotated[int, Field(ge=0)]
PositiveCents = Annotated[int, Field(gt=0)]
EVENT_ID_PATTERN = r"^m(0[1-9]|1[0-2])-\d{6}$"


def cash_flow_of(event_type: EventType, category: Category) -> CashFlow:
    """Which trend total a movement counts towards.

    Outflows are expenses. Inflows are revenue, except funding: investors' money raises cash
    but is not earned, so trends keep it apart in `funding_cents`.
    """
    if category == "outflow":
        return "expenses"
    return "funding" if event_type == "funding" else "revenue"


class FrozenModel(BaseModel):
    """A scenario value: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Product(FrozenModel):
    """Something a bakery sells."""

    name: str
    unit_price_cents: PositiveCents
    unit_cost_cents: PositiveCents
    sales_share_pct: int = Field(gt=0, le=100, description="Share of the units sold.")


class BakeryDetails(FrozenModel):
    """What is particular to a bakery."""

    kind: Literal["bakery"] = "bakery"
    products: tuple[Product, ...] = Field(min_length=1)
    daily_units_baseline: int = Field(gt=0, description="Items sold on an ordinary day.")
    catering_share_pct: int = Field(ge=0, le=50, description="Share of units sold as orders.")

    @model_validator(mode="after")
    def _shares_are_whole(self) -> BakeryDetails:
        shares = sum(product.sales_share_pct for product in self.products)
        if shares != 100:
            raise ValueError(f"product sales shares add up to {shares}%, not 100%")
        return self


class RoomType(FrozenModel):
    """One kind of hotel room."""

    name: str
    rooms: int = Field(gt=0)
    nightly_rate_cents: PositiveCents


class HotelDetails(FrozenModel):
    """What is particular to a hotel."""

    kind: Literal["hotel"] = "hotel"
    star_rating: int = Field(ge=1, le=5)
    rooms_count: int = Field(gt=0)
    room_types: tuple[RoomType, ...] = Field(min_length=1)
    baseline_occupancy_pct: int = Field(gt=0, le=100)
    average_stay_tenth_nights: int = Field(gt=0, description="Average stay; 26 is 2.6 nights.")

    @model_validator(mode="after")
    def _rooms_add_up(self) -> HotelDetails:
        counted = sum(room_type.rooms for room_type in self.room_types)
        if counted != self.rooms_count:
            raise ValueError(f"room types hold {counted} rooms, not {self.rooms_count}")
        return self


class PricingPlan(FrozenModel):
    """A subscription plan of a startup's product."""

    name: str
    monthly_price_cents: PositiveCents
    mix_pct: int = Field(gt=0, le=100, description="Share of customers on this plan.")


class StartupDetails(FrozenModel):
    """What is particular to a tech startup."""

    kind: Literal["tech_startup"] = "tech_startup"
    product_name: str
    product_pitch: str
    funding_stage: FundingStage
    plans: tuple[PricingPlan, ...] = Field(min_length=1)
    starting_customers: int = Field(gt=0)
    monthly_growth_pct: int = Field(ge=0, le=100, description="New customers a month.")
    monthly_churn_bps: int = Field(ge=0, le=10_000, description="Customers lost a month.")
    monthly_burn_plan_cents: PositiveCents
    planned_round_cents: PositiveCents
    planned_round_month: Month
    lead_investor: str

    @model_validator(mode="after")
    def _plan_mix_is_whole(self) -> StartupDetails:
        mix = sum(plan.mix_pct for plan in self.plans)
        if mix != 100:
            raise ValueError(f"plan mix adds up to {mix}%, not 100%")
        return self


Details = Annotated[BakeryDetails | HotelDetails | StartupDetails, Field(discriminator="kind")]


class CompanyProfile(FrozenModel):
    """Who the company is: the first stage's output, the input of every later one."""

    scenario_type: ScenarioType
    name: str
    industry: str
    city: str
    country: str
    currency: Currency
    founded_year: int
    fiscal_year: int = Field(description="The calendar year the twelve months cover.")
    opening_cash_cents: Cents
    initial_headcount: int = Field(gt=0)
    monthly_rent_cents: PositiveCents
    average_monthly_salary_cents: PositiveCents
    description: str
    details: Details

    @model_validator(mode="after")
    def _consistent(self) -> CompanyProfile:
        if self.details.kind != self.scenario_type:
            raise ValueError(f"{self.details.kind} details on a {self.scenario_type} profile")
        if self.founded_year > self.fiscal_year:
            raise ValueError("a company cannot be founded after the year it is simulated in")
        return self


class BakeryKpis(FrozenModel):
    """A bakery's month in numbers."""

    kind: Literal["bakery"] = "bakery"
    units_sold: int = Field(ge=0)
    catering_orders: int = Field(ge=0)


class HotelKpis(FrozenModel):
    """A hotel's month in numbers."""

    kind: Literal["hotel"] = "hotel"
    room_nights_available: int = Field(gt=0)
    room_nights_sold: int = Field(ge=0)
    occupancy_bps: int = Field(ge=0, le=10_000, description="Occupancy; 7250 is 72.50%.")
    bookings: int = Field(ge=0)
    cancellations: int = Field(ge=0)
    average_daily_rate_cents: Cents


class StartupKpis(FrozenModel):
    """A startup's month in numbers; funding received is the trend's `funding_cents`."""

    kind: Literal["tech_startup"] = "tech_startup"
    mrr_cents: Cents
    customers: int = Field(ge=0)
    new_customers: int = Field(ge=0)
    churned_customers: int = Field(ge=0)


Kpis = Annotated[BakeryKpis | HotelKpis | StartupKpis, Field(discriminator="kind")]


class BudgetLine(FrozenModel):
    """A planned amount of one event type in a month, and how many events carry it."""

    event_type: EventType
    amount_cents: PositiveCents
    events: int = Field(gt=0)

    @model_validator(mode="after")
    def _each_event_gets_a_cent(self) -> BudgetLine:
        if self.events > self.amount_cents:
            raise ValueError(f"{self.amount_cents} cents cannot fund {self.events} events")
        return self


class MonthlyTrend(FrozenModel):
    """One month's plan.

    `closing = opening + revenue + funding - expenses`, and the next month opens with this
    month's closing. `budget` breaks the three totals down by event type; the month's events
    are generated from it alone.
    """

    month: Month
    month_name: str
    opening_cash_cents: int
    revenue_cents: Cents
    expenses_cents: Cents
    funding_cents: Cents = 0
    closing_cash_cents: int
    headcount: int = Field(gt=0)
    hires: int = Field(ge=0)
    kpis: Kpis
    budget: tuple[BudgetLine, ...]

    def planned_cents(self, flow: CashFlow) -> int:
        """The month's planned total of `flow`."""
        if flow == "revenue":
            return self.revenue_cents
        if flow == "funding":
            return self.funding_cents
        return self.expenses_cents


class BusinessEvent(FrozenModel):
    """One money movement. Ids (`m03-000123`) sort in month, then day, then budget order."""

    event_id: str = Field(pattern=EVENT_ID_PATTERN)
    month: Month
    day: int = Field(ge=1, le=31)
    event_type: EventType
    category: Category
    amount_cents: PositiveCents
    description: str
    counterparty: str


class ValidationCheck(FrozenModel):
    """One reconciliation check; `expected` and `actual` are cents, counts or short text."""

    name: str
    ok: bool
    expected: int | str
    actual: int | str
    message: str


class ValidationTotals(FrozenModel):
    """What the events add up to."""

    events_count: int
    total_inflow_cents: int
    total_outflow_cents: int
    final_cash_cents: int


class ValidationReport(FrozenModel):
    """The verdict on a stored scenario: `ok` only when every check passed."""

    ok: bool
    checks: tuple[ValidationCheck, ...]
    totals: ValidationTotals

    @property
    def failures(self) -> tuple[ValidationCheck, ...]:
        """The checks that did not pass."""
        return tuple(check for check in self.checks if not check.ok)
