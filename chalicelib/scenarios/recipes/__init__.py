"""One recipe per scenario type, all driven by the same generation engine."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from chalicelib.scenarios.models import ScenarioType
from chalicelib.scenarios.recipes.bakery import BakeryRecipe
from chalicelib.scenarios.recipes.base import Recipe
from chalicelib.scenarios.recipes.hotel import HotelRecipe
from chalicelib.scenarios.recipes.tech_startup import TechStartupRecipe

# The engine only uses the parts of a recipe that do not depend on its details model.
RECIPES: Mapping[ScenarioType, Recipe[Any]] = MappingProxyType(
    {
        "bakery": BakeryRecipe(),
        "hotel": HotelRecipe(),
        "tech_startup": TechStartupRecipe(),
    }
)


def recipe_for(scenario_type: ScenarioType) -> Recipe[Any]:
    """The recipe of `scenario_type`."""
    try:
        return RECIPES[scenario_type]
    except KeyError:
        raise ValueError(f"unknown scenario type {scenario_type!r}") from None
