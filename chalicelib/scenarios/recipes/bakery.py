"""A neighbourhood bakery: daily counter takings, a few orders, flour and early-morning staff."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

from chalicelib.scenarios.models import (
    BakeryDetails,
    BakeryKpis,
    CompanyProfile,
    EventType,
    Product,
)
from chalicelib.scenarios.money import split_proportionally
from chalicelib.scenarios.months import days_in_month
from chalicelib.scenarios.recipes.base import (
    HIRE,
    PAYROLL,
    UTILITIES,
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

# (name, lowest price, highest price, how often it sells) with prices in cents before the
# local cost level.
CATALOGUE: tuple[tuple[str, int, int, int], ...] = (
    ("Sourdough loaf", 450, 650, 10),
    ("Baguette", 120, 180, 20),
    ("Butter croissant", 130, 220, 20),
    ("Pain au chocolat", 150, 240, 15),
    ("Cinnamon bun", 250, 380, 10),
    ("Rye bread", 400, 560, 8),
    ("Fruit tart", 350, 520, 6),
    ("Focaccia slice", 280, 400, 8),
    ("Celebration cake", 2800, 4500, 1),
    ("Filter coffee", 220, 350, 20),
)

# Demand by month in percent: a quiet summer holiday, a busy December.
SEASON = (92, 90, 97, 100, 102, 98, 95, 84, 100, 103, 106, 130)
# Temporary staff for the Christmas rush.
SEASONAL_STAFF = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2)
# Three till closes a day: morning, lunchtime, afternoon.
TAKINGS_PER_DAY = 3

EVENT_KINDS: Mapping[EventType, EventKind] = MappingProxyType(
    {
        "sale": EventKind(
            schedule="daily",
            items=(
                Item("Counter takings, morning", 130),
                Item("Counter takings, lunchtime", 100),
                Item("Counter takings, afternoon", 70),
            ),
            rotate=True,
            counterparties=("Walk-in customers",),
        ),
        "catering_order": EventKind(
            schedule="any_day",
            items=(
                Item("Office breakfast order"),
                Item("Cafe wholesale delivery", 140),
                Item("Event catering", 180),
                Item("Celebration cake order", 60),
            ),
            counterparties=(
                "Riverside Cafe",
                "Northgate Offices",
                "St. Mary's School",
                "Hotel Lindenhof",
                "Greenway Coworking",
            ),
        ),
        "ingredients": EventKind(
            schedule="any_day",
            items=(
                Item("Flour and grains delivery", 140, "Stone Mill Flour Co."),
                Item("Dairy and eggs delivery", 110, "Valley Dairy Co-op"),
                Item("Butter and chocolate", 90, "Patissier Supply"),
                Item("Fruit and nuts", 60, "Green Market Wholesale"),
                Item("Coffee beans", 40, "Roastery North"),
            ),
        ),
        "packaging": EventKind(
            schedule="any_day",
            items=(Item("Boxes, bags and paper cups", counterparty="PackRight Supplies"),),
        ),
        "payroll": PAYROLL,
        "rent": rent_kind("Shop rent", "Old Town Property Management"),
        "utilities": UTILITIES,
        "marketing": EventKind(
            schedule="any_day",
            items=(Item("Local newspaper ad"), Item("Social media promotion"), Item("Flyers")),
            counterparties=("City Gazette", "Pixel & Co. Studio", "PrintHouse"),
        ),
        "maintenance": EventKind(
            schedule="any_day",
            items=(Item("Oven service"), Item("Refrigeration repair"), Item("Mixer repair")),
            counterparties=("BakeTech Service", "CoolFix Refrigeration"),
        ),
        "hire": HIRE,
    }
)


class BakeryRecipe(Recipe[BakeryDetails]):
    """A bakery of five to ten people selling a few hundred items a day."""

    details_model = BakeryDetails
    scenario_type = "bakery"
    industry = "Food & beverage retail"
    locations = (
        Location("Lyon", "France", "EUR", 100),
        Location("Porto", "Portugal", "EUR", 75),
        Location("Ghent", "Belgium", "EUR", 100),
        Location("Freiburg", "Germany", "EUR", 105),
        Location("Bologna", "Italy", "EUR", 95),
        Location("Edinburgh", "United Kingdom", "GBP", 90),
    )
    name_prefixes = (
        "Golden Crust",
        "Morning Rise",
        "Little Oven",
        "Stone Mill",
        "Sunflower",
        "Old Town",
        "Wild Yeast",
        "Copper Kettle",
    )
    name_suffixes = ("Bakery", "Bakehouse", "Boulangerie", "Patisserie")
    age_years = (1, 30)
    headcount_range = (5, 10)
    salary_range_cents = (2_200_00, 2_900_00)
    rent_range_cents = (1_800_00, 4_200_00)

    def details(self, basics: Basics, rng: random.Random) -> BakeryDetails:
        """Five to seven products at local prices; sales grow with the team."""
        chosen = rng.sample(CATALOGUE, rng.randint(5, 7))
        shares = split_proportionally(100, [popularity for _, _, _, popularity in chosen])
        products = []
        for (name, low, high, _), share in zip(chosen, shares, strict=True):
            # Prices end in ten cents, like a price board.
            price = percent_of(rng.randint(low, high), basics.location.cost_level_pct) // 10 * 10
            products.append(
                Product(
                    name=name,
                    unit_price_cents=price,
                    unit_cost_cents=max(1, percent_of(price, rng.randint(24, 34))),
                    sales_share_pct=share,
                )
            )
        return BakeryDetails(
            products=tuple(products),
            daily_units_baseline=basics.headcount * rng.randint(65, 80),
            catering_share_pct=rng.randint(8, 18),
        )

    def opening_cash_cents(self, basics: Basics, details: BakeryDetails, rng: random.Random) -> int:
        """One and a half to three months of fixed costs."""
        fixed = basics.headcount * basics.salary_cents + basics.rent_cents
        return whole_units(percent_of(fixed, rng.randint(150, 300)))

    def description(self, basics: Basics, details: BakeryDetails) -> str:
        """What the bakery sells and where."""
        names = [product.name.lower() for product in details.products]
        return (
            f"{basics.name} is a neighbourhood bakery in {basics.location.city} selling "
            f"{len(names)} products, from {names[0]} to {names[-1]}."
        )

    def plan_year(self, profile: CompanyProfile, rng: random.Random) -> list[MonthPlan]:
        """Units follow the season; ingredients follow units; staff costs are mostly fixed."""
        details = self.own_details(profile)
        products = details.products
        average_price = sum(p.unit_price_cents * p.sales_share_pct for p in products) // 100
        average_cost = sum(p.unit_cost_cents * p.sales_share_pct for p in products) // 100
        staff = headcount_path(rng, profile.initial_headcount, SEASONAL_STAFF, 5, 1)
        plans = []
        for month, (headcount, hires) in enumerate(staff, start=1):
            days = days_in_month(profile.fiscal_year, month)
            units = (
                details.daily_units_baseline * days * SEASON[month - 1] * rng.randint(94, 106)
            ) // 10_000
            catering_units = percent_of(units, details.catering_share_pct)
            counter = (units - catering_units) * average_price
            # Orders are sold to businesses at a trade discount.
            catering = percent_of(catering_units * average_price, 90)
            catering_orders = rng.randint(4, 9)
            repairs = rng.randint(1, 100) <= 40
            lines = budget(
                ("sale", counter, TAKINGS_PER_DAY * days),
                ("catering_order", catering, catering_orders),
                ("ingredients", varied(rng, units * average_cost, 4), rng.randint(9, 13)),
                ("packaging", percent_of(counter + catering, rng.randint(2, 3)), 2),
                (
                    "payroll",
                    varied(rng, headcount * profile.average_monthly_salary_cents, 2),
                    headcount,
                ),
                ("rent", profile.monthly_rent_cents, 1),
                ("utilities", varied(rng, percent_of(counter + catering, 4), 15), 3),
                ("marketing", whole_units(rng.randint(150_00, 600_00)), rng.randint(1, 3)),
                ("maintenance", whole_units(rng.randint(80_00, 900_00)) if repairs else 0, 1),
                ("hire", hires * whole_units(rng.randint(250_00, 600_00)), hires),
            )
            plans.append(
                MonthPlan(
                    headcount=headcount,
                    hires=hires,
                    kpis=BakeryKpis(units_sold=units, catering_orders=catering_orders),
                    budget=lines,
                )
            )
        return plans

    def event_kinds(self, profile: CompanyProfile) -> Mapping[EventType, EventKind]:
        """The same for every bakery."""
        return EVENT_KINDS
