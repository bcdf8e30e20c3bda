"""A city hotel: hundreds of bookings a month, a restaurant, and a busy summer."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

from chalicelib.scenarios.models import (
    CompanyProfile,
    EventType,
    HotelDetails,
    HotelKpis,
    RoomType,
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
    people,
    percent_of,
    rent_kind,
    varied,
    whole_units,
)

# (name, share of rooms, lowest rate, highest rate) with rates in cents for a three-star hotel.
ROOM_CATALOGUE: tuple[tuple[str, int, int, int], ...] = (
    ("Single room", 15, 65_00, 95_00),
    ("Twin room", 20, 90_00, 130_00),
    ("Deluxe room", 20, 150_00, 220_00),
    ("Junior suite", 8, 240_00, 380_00),
)
DOUBLE_ROOM = ("Double room", 40, 95_00, 140_00)

# Occupancy by month in percent of the baseline; room rates follow at half the swing.
SEASON = (62, 68, 82, 94, 104, 118, 130, 134, 112, 94, 74, 82)
# Extra staff per twenty rooms in the high season.
SEASONAL_STAFF_PER_20_ROOMS = (0, 0, 0, 1, 2, 4, 5, 5, 2, 0, 0, 0)
LONGEST_STAY_NIGHTS = 5

GUESTS = people(
    (
        "Anna",
        "Ben",
        "Carla",
        "David",
        "Elena",
        "Farid",
        "Grace",
        "Hugo",
        "Ines",
        "Jonas",
        "Keiko",
        "Liam",
        "Maya",
        "Noah",
        "Olga",
        "Pedro",
        "Rosa",
        "Sven",
        "Tariq",
        "Yara",
    ),
    (
        "Andersen",
        "Bianchi",
        "Costa",
        "Dubois",
        "Evans",
        "Fischer",
        "Garcia",
        "Hansen",
        "Ivanova",
        "Jensen",
        "Kowalski",
        "Laurent",
        "Meyer",
        "Novak",
        "O'Brien",
        "Peeters",
        "Rossi",
        "Schmidt",
        "Tanaka",
        "Visser",
    ),
)

COMMON_KINDS: Mapping[EventType, EventKind] = MappingProxyType(
    {
        "cancellation_fee": EventKind(
            schedule="any_day",
            items=(Item("Late cancellation fee"), Item("No-show charge", 150)),
            counterparties=GUESTS,
        ),
        "food_and_beverage": EventKind(
            schedule="daily",
            items=(Item("Restaurant and bar takings"),),
            counterparties=("Restaurant guests",),
            jitter_pct=30,
        ),
        "ota_commission": EventKind(
            schedule="any_day",
            items=(
                Item("Booking platform commission", 50, "Bookaway"),
                Item("Travel site commission", 30, "TripNest"),
                Item("Tour operator commission", 20, "Globetrotter Travel"),
            ),
            rotate=True,
            jitter_pct=0,
        ),
        "laundry": EventKind(
            schedule="any_day",
            items=(Item("Linen and towel service", counterparty="Crisp Linen Services"),),
        ),
        "housekeeping_supplies": EventKind(
            schedule="any_day",
            items=(Item("Cleaning supplies"), Item("Guest toiletries"), Item("Minibar restock")),
            counterparties=("HospitalityPro Supply", "CleanLine Wholesale"),
        ),
        "food_supplies": EventKind(
            schedule="any_day",
            items=(
                Item("Fresh produce", 100, "Green Market Wholesale"),
                Item("Meat and fish", 120, "Harbour Fresh Foods"),
                Item("Wine and beverages", 90, "Cellar & Co."),
                Item("Dry goods", 50, "Metro Cash & Carry"),
            ),
        ),
        "payroll": PAYROLL,
        "rent": rent_kind("Building lease", "Crown Estates"),
        "utilities": UTILITIES,
        "marketing": EventKind(
            schedule="any_day",
            items=(Item("Online advertising"), Item("Travel fair stand"), Item("Photo shoot")),
            counterparties=("SearchReach Ads", "Expo Travel Fair", "Lumen Studio"),
        ),
        "maintenance": EventKind(
            schedule="any_day",
            items=(
                Item("Air conditioning service"),
                Item("Plumbing repair"),
                Item("Lift inspection"),
                Item("Room repainting", 160),
            ),
            counterparties=("FixRight Facilities", "LiftSafe Inspections", "Brush & Roller"),
        ),
        "hire": HIRE,
    }
)


class HotelRecipe(Recipe[HotelDetails]):
    """A hotel of forty to sixty rooms with its own restaurant."""

    details_model = HotelDetails
    scenario_type = "hotel"
    industry = "Hospitality"
    locations = (
        Location("Lisbon", "Portugal", "EUR", 85),
        Location("Vienna", "Austria", "EUR", 110),
        Location("Barcelona", "Spain", "EUR", 100),
        Location("Dubrovnik", "Croatia", "EUR", 90),
        Location("Amsterdam", "Netherlands", "EUR", 125),
        Location("Bath", "United Kingdom", "GBP", 95),
    )
    name_prefixes = ("Hotel Aurora", "The Harbour", "Grand Meridian", "Villa Serena", "The Linden")
    name_suffixes = ("House", "Hotel", "Suites", "Residence")
    age_years = (3, 60)
    headcount_range = (16, 30)
    salary_range_cents = (2_100_00, 2_800_00)
    rent_range_cents = (15_000_00, 30_000_00)

    def details(self, basics: Basics, rng: random.Random) -> HotelDetails:
        """Doubles plus two or three other room types; more stars, higher rates."""
        stars = rng.randint(3, 5)
        catalogue = [DOUBLE_ROOM, *rng.sample(ROOM_CATALOGUE, rng.randint(2, 3))]
        rooms_count = rng.randint(40, 60)
        rooms = split_proportionally(rooms_count, [share for _, share, _, _ in catalogue])
        room_types = tuple(
            RoomType(
                name=name,
                rooms=count,
                nightly_rate_cents=whole_units(
                    percent_of(
                        percent_of(rng.randint(low, high), 70 + 10 * stars),
                        basics.location.cost_level_pct,
                    )
                ),
            )
            for (name, _, low, high), count in zip(catalogue, rooms, strict=True)
        )
        return HotelDetails(
            star_rating=stars,
            rooms_count=rooms_count,
            room_types=room_types,
            baseline_occupancy_pct=rng.randint(58, 72),
            average_stay_tenth_nights=rng.randint(24, 34),
        )

    def opening_cash_cents(self, basics: Basics, details: HotelDetails, rng: random.Random) -> int:
        """Two to three and a half months of fixed costs, to carry the hotel through winter."""
        fixed = basics.headcount * basics.salary_cents + basics.rent_cents
        return whole_units(percent_of(fixed, rng.randint(200, 350)))

    def description(self, basics: Basics, details: HotelDetails) -> str:
        """Stars, rooms and place."""
        return (
            f"{basics.name} is a {details.star_rating}-star hotel in {basics.location.city} "
            f"with {details.rooms_count} rooms and its own restaurant."
        )

    def plan_year(self, profile: CompanyProfile, rng: random.Random) -> list[MonthPlan]:
        """Occupancy follows the season; bookings follow occupancy and the average stay."""
        details = self.own_details(profile)
        rooms = details.rooms_count
        rack_rate = (
            sum(room_type.rooms * room_type.nightly_rate_cents for room_type in details.room_types)
            // rooms
        )
        seasonal = tuple(extra * rooms // 20 for extra in SEASONAL_STAFF_PER_20_ROOMS)
        staff = headcount_path(rng, profile.initial_headcount, seasonal, 10, 1)
        plans = []
        for month, (headcount, hires) in enumerate(staff, start=1):
            days = days_in_month(profile.fiscal_year, month)
            season = SEASON[month - 1]
            available = rooms * days
            occupancy_bps = details.baseline_occupancy_pct * season * rng.randint(95, 105) // 100
            occupancy_bps = min(9_700, max(2_000, occupancy_bps))
            sold = available * occupancy_bps // 10_000
            bookings = max(1, sold * 10 // details.average_stay_tenth_nights)
            daily_rate = percent_of(rack_rate, 100 + (season - 100) // 2)
            rooms_revenue = sold * daily_rate
            cancellations = percent_of(bookings, rng.randint(3, 8))
            food_and_beverage = percent_of(rooms_revenue, rng.randint(14, 22))
            lines = budget(
                ("room_booking", rooms_revenue, bookings),
                (
                    "cancellation_fee",
                    cancellations * percent_of(daily_rate, rng.randint(40, 60)),
                    cancellations,
                ),
                ("food_and_beverage", food_and_beverage, days),
                # About half the nights come through platforms taking 12 to 18 percent.
                ("ota_commission", percent_of(rooms_revenue, rng.randint(6, 9)), 3),
                ("laundry", sold * rng.randint(6_00, 9_00), rng.randint(4, 5)),
                ("housekeeping_supplies", sold * rng.randint(2_50, 4_50), rng.randint(3, 6)),
                ("food_supplies", percent_of(food_and_beverage, rng.randint(32, 38)), 10),
                (
                    "payroll",
                    varied(rng, headcount * profile.average_monthly_salary_cents, 2),
                    headcount,
                ),
                ("rent", profile.monthly_rent_cents, 1),
                ("utilities", varied(rng, available * 1_80 + sold * 1_20, 10), 3),
                ("marketing", whole_units(rng.randint(1_500_00, 5_000_00)), rng.randint(2, 4)),
                ("maintenance", rooms * rng.randint(15_00, 30_00), rng.randint(2, 5)),
                ("hire", hires * whole_units(rng.randint(300_00, 700_00)), hires),
            )
            plans.append(
                MonthPlan(
                    headcount=headcount,
                    hires=hires,
                    kpis=HotelKpis(
                        room_nights_available=available,
                        room_nights_sold=sold,
                        occupancy_bps=sold * 10_000 // available,
                        bookings=bookings,
                        cancellations=cancellations,
                        average_daily_rate_cents=daily_rate,
                    ),
                    budget=lines,
                )
            )
        return plans

    def event_kinds(self, profile: CompanyProfile) -> Mapping[EventType, EventKind]:
        """Bookings priced by this hotel's rooms; everything else is common to hotels."""
        details = self.own_details(profile)
        # One item per room and stay length, so bookings land on room types as often as the
        # hotel has such rooms, and their amounts scale with the nightly rate and the nights.
        stays = tuple(
            Item(
                f"{room_type.name}, {nights} night{'s' if nights > 1 else ''}",
                room_type.nightly_rate_cents * nights,
            )
            for room_type in details.room_types
            for _ in range(room_type.rooms)
            for nights in range(1, LONGEST_STAY_NIGHTS + 1)
        )
        booking = EventKind(schedule="any_day", items=stays, counterparties=GUESTS, jitter_pct=5)
        return MappingProxyType({"room_booking": booking, **COMMON_KINDS})
