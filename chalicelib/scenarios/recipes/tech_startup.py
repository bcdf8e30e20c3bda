"""A SaaS startup: thousands of small subscription payments, cloud bills and a funding round."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

from chalicelib.scenarios.models import (
    CompanyProfile,
    EventType,
    PricingPlan,
    StartupDetails,
    StartupKpis,
)
from chalicelib.scenarios.months import days_in_month
from chalicelib.scenarios.recipes.base import (
    HIRE,
    PAYROLL,
    Basics,
    EventKind,
    Item,
    Location,
    MonthPlan,
    Recipe,
    budget,
    headcount_path,
    percent_of,
    rent_kind,
    varied,
    whole_units,
)

# (product, what it does for whom)
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Ledgerly", "invoice automation for freelancers"),
    ("Shiftwise", "staff scheduling for restaurants"),
    ("Quantbase", "inventory forecasting for online shops"),
    ("Helio", "energy monitoring for small factories"),
    ("Tallyhive", "expense reporting for remote teams"),
    ("Brightlane", "route planning for delivery fleets"),
)
INVESTORS = ("Northstar Ventures", "Foundry Capital", "Atlas Seed Partners", "Blue Harbor VC")
CO_INVESTORS = ("Angel syndicate", "Regional innovation fund")
NEXT_ROUND: Mapping[str, tuple[str, int, int]] = MappingProxyType(
    {
        "pre_seed": ("Seed", 800_000_00, 2_000_000_00),
        "seed": ("Series A", 3_000_000_00, 7_000_000_00),
    }
)

# One cloud line item per service and day, as a provider's daily billing export has.
CLOUD_SERVICES = (
    Item("Compute instances", 35, "Nimbus Cloud"),
    Item("Managed database", 20, "Nimbus Cloud"),
    Item("Object storage", 10, "Nimbus Cloud"),
    Item("CDN and bandwidth", 12, "EdgeFast CDN"),
    Item("Monitoring and logs", 8, "Watchtower Observability"),
    Item("Transactional email", 5, "Mailflow"),
)
# Cloud costs that do not grow with customers: environments, backups, staging.
CLOUD_BASE_CENTS = 2_500_00
# Ranges the monthly plan draws from; the profile's burn plan uses their midpoints.
CLOUD_PER_CUSTOMER_CENTS = (80, 140)
TOOLS_PER_HEAD_CENTS = (120_00, 220_00)
ACQUISITION_COST_CENTS = (150_00, 300_00)
CONTRACTORS_CENTS = (3_000_00, 12_000_00)
# Card processing: 2.9% plus 30 cents a payment.
CARD_FEE_PER_MILLE = 29
CARD_FEE_PER_PAYMENT_CENTS = 30

COMMON_KINDS: Mapping[EventType, EventKind] = MappingProxyType(
    {
        "cloud": EventKind(schedule="daily", items=CLOUD_SERVICES, rotate=True),
        "payment_fees": EventKind(
            schedule="daily",
            items=(Item("Card processing fees", counterparty="PayStream"),),
            jitter_pct=20,
        ),
        "software_tools": EventKind(
            schedule="any_day",
            items=(
                Item("Code hosting", 100, "GitForge"),
                Item("Team chat", 60, "Chatter"),
                Item("Design tool", 50, "Figmento"),
                Item("CRM seats", 120, "Pipeline CRM"),
                Item("Issue tracker", 50, "TaskTrack"),
                Item("Office suite", 70, "DocsPlus"),
            ),
        ),
        "payroll": PAYROLL,
        "rent": rent_kind("Office space", "Foundry Workspace"),
        "marketing": EventKind(
            schedule="daily",
            items=(
                Item("Search ads", 120, "SearchReach Ads"),
                Item("Social ads", 80, "SocialBoost"),
                Item("Newsletter sponsorship", 40, "The Builder Weekly"),
            ),
            jitter_pct=30,
        ),
        "contractors": EventKind(
            schedule="any_day",
            items=(Item("Security audit"), Item("Freelance design"), Item("Legal counsel", 140)),
            counterparties=("Redline Security", "Studio Kite", "Marsh & Partners LLP"),
        ),
        "hire": HIRE,
    }
)


class TechStartupRecipe(Recipe[StartupDetails]):
    """A software company of fifteen to thirty people that raises a round during the year."""

    details_model = StartupDetails
    scenario_type = "tech_startup"
    industry = "Software as a service"
    locations = (
        Location("Berlin", "Germany", "EUR", 100),
        Location("Austin", "United States", "USD", 120),
        Location("Toronto", "Canada", "CAD", 110),
        Location("London", "United Kingdom", "GBP", 115),
        Location("San Francisco", "United States", "USD", 145),
        Location("Tallinn", "Estonia", "EUR", 75),
    )
    name_prefixes = ("Northwind", "Bluepeak", "Kestrel", "Lumen", "Tidewater", "Parallax")
    name_suffixes = ("Labs", "Technologies", "Software", "Systems")
    age_years = (1, 4)
    headcount_range = (15, 30)
    salary_range_cents = (5_500_00, 8_500_00)
    rent_range_cents = (6_000_00, 15_000_00)

    def details(self, basics: Basics, rng: random.Random) -> StartupDetails:
        """A product, three plans, a customer base and the round it will raise."""
        product, pitch = rng.choice(PRODUCTS)
        funding_stage = rng.choice(("pre_seed", "seed"))
        _, round_low, round_high = NEXT_ROUND[funding_stage]
        starter_mix = rng.randint(55, 70)
        team_mix = rng.randint(20, 95 - starter_mix)
        plans = (
            PricingPlan(
                name="Starter", monthly_price_cents=rng.randint(15, 39) * 100, mix_pct=starter_mix
            ),
            PricingPlan(
                name="Team", monthly_price_cents=rng.randint(49, 99) * 100, mix_pct=team_mix
            ),
            PricingPlan(
                name="Business",
                monthly_price_cents=rng.randint(199, 399) * 100,
                mix_pct=100 - starter_mix - team_mix,
            ),
        )
        starting_customers = rng.randint(1_500, 1_900)
        growth_pct = rng.randint(5, 8)
        # The first month's costs as the year's plan will draw them, at their midpoints.
        burn = (
            basics.headcount * basics.salary_cents
            + basics.rent_cents
            + CLOUD_BASE_CENTS
            + starting_customers * _midpoint(CLOUD_PER_CUSTOMER_CENTS)
            + basics.headcount * _midpoint(TOOLS_PER_HEAD_CENTS)
            + percent_of(starting_customers, growth_pct) * _midpoint(ACQUISITION_COST_CENTS)
            + _midpoint(CONTRACTORS_CENTS)
        )
        return StartupDetails(
            product_name=product,
            product_pitch=pitch,
            funding_stage=funding_stage,
            plans=plans,
            starting_customers=starting_customers,
            monthly_growth_pct=growth_pct,
            monthly_churn_bps=rng.randint(150, 250),
            monthly_burn_plan_cents=whole_units(burn),
            planned_round_cents=rng.randint(round_low // 100_000_00, round_high // 100_000_00)
            * 100_000_00,
            planned_round_month=rng.randint(4, 9),
            lead_investor=rng.choice(INVESTORS),
        )

    def opening_cash_cents(
        self, basics: Basics, details: StartupDetails, rng: random.Random
    ) -> int:
        """Twelve to eighteen months of runway at the planned net burn."""
        net_burn = details.monthly_burn_plan_cents - details.starting_customers * _average_price(
            details
        )
        runway = max(net_burn, details.monthly_burn_plan_cents // 4) * rng.randint(12, 18)
        return whole_units(runway)

    def description(self, basics: Basics, details: StartupDetails) -> str:
        """Product, pitch and stage."""
        return (
            f"{basics.name} builds {details.product_name}, {details.product_pitch}, from "
            f"{basics.location.city}. It is {details.funding_stage.replace('_', '-')} funded "
            f"and raising its {NEXT_ROUND[details.funding_stage][0]} round this year."
        )

    def plan_year(self, profile: CompanyProfile, rng: random.Random) -> list[MonthPlan]:
        """Customers compound; every customer pays monthly; the team grows after the round."""
        details = self.own_details(profile)
        average_price = _average_price(details)
        # Once the round closes the company hires two more people each month.
        after_round = tuple(
            2 * max(0, month - details.planned_round_month + 1) for month in range(1, 13)
        )
        staff = headcount_path(rng, profile.initial_headcount, after_round, 50, 2)
        customers = details.starting_customers
        plans = []
        for month, (headcount, hires) in enumerate(staff, start=1):
            days = days_in_month(profile.fiscal_year, month)
            growth = rng.randint(details.monthly_growth_pct - 1, details.monthly_growth_pct + 1)
            new = percent_of(customers, growth)
            churned = customers * details.monthly_churn_bps * rng.randint(80, 120) // 1_000_000
            customers += new - churned
            mrr = customers * average_price
            funding = details.planned_round_cents if month == details.planned_round_month else 0
            lines = budget(
                ("subscription", mrr, customers),
                ("funding", funding, 1 + len(CO_INVESTORS)),
                (
                    "payroll",
                    varied(rng, headcount * profile.average_monthly_salary_cents, 2),
                    headcount,
                ),
                (
                    "cloud",
                    CLOUD_BASE_CENTS + customers * rng.randint(*CLOUD_PER_CUSTOMER_CENTS),
                    len(CLOUD_SERVICES) * days,
                ),
                (
                    "payment_fees",
                    mrr * CARD_FEE_PER_MILLE // 1000 + customers * CARD_FEE_PER_PAYMENT_CENTS,
                    days,
                ),
                (
                    "software_tools",
                    headcount * rng.randint(*TOOLS_PER_HEAD_CENTS),
                    rng.randint(8, 14),
                ),
                ("rent", profile.monthly_rent_cents, 1),
                # Acquisition cost per new customer, spent as daily ad budgets.
                ("marketing", new * rng.randint(*ACQUISITION_COST_CENTS), days),
                ("contractors", whole_units(rng.randint(*CONTRACTORS_CENTS)), rng.randint(1, 4)),
                ("hire", hires * whole_units(rng.randint(2_500_00, 6_000_00)), hires),
            )
            plans.append(
                MonthPlan(
                    headcount=headcount,
                    hires=hires,
                    kpis=StartupKpis(
                        mrr_cents=mrr,
                        customers=customers,
                        new_customers=new,
                        churned_customers=churned,
                    ),
                    budget=lines,
                )
            )
        return plans

    def event_kinds(self, profile: CompanyProfile) -> Mapping[EventType, EventKind]:
        """Subscriptions priced by this product's plans, funding from this round's investors."""
        details = self.own_details(profile)
        # Each plan appears as often as its share of customers, so a random pick follows the mix.
        subscriptions = tuple(
            Item(f"{plan.name} plan, monthly", plan.monthly_price_cents)
            for plan in details.plans
            for _ in range(plan.mix_pct)
        )
        round_name = NEXT_ROUND[details.funding_stage][0]
        funding = EventKind(
            schedule="any_day",
            items=(
                Item(f"{round_name} round, lead investment", 70, details.lead_investor),
                *(Item(f"{round_name} round, co-investment", 15, name) for name in CO_INVESTORS),
            ),
            rotate=True,
            jitter_pct=0,
        )
        subscription = EventKind(
            schedule="any_day",
            items=subscriptions,
            numbered="Customer C{n:05d}",
            jitter_pct=5,
        )
        return MappingProxyType({"subscription": subscription, "funding": funding, **COMMON_KINDS})


def _midpoint(bounds: tuple[int, int]) -> int:
    return sum(bounds) // 2


def _average_price(details: StartupDetails) -> int:
    """Revenue per customer a month, from the plan prices and mix."""
    return sum(plan.monthly_price_cents * plan.mix_pct for plan in details.plans) // 100
