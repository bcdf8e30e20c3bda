"""Synthetic business scenarios: deterministic generation stage by stage, and validation.

Pure domain code: no I/O, no AWS, nothing imported beyond pydantic and the standard library.
"""

from chalicelib.scenarios.generation import (
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios.models import (
    SCENARIO_TYPES,
    BusinessEvent,
    CompanyProfile,
    MonthlyTrend,
    ScenarioType,
    ValidationCheck,
    ValidationReport,
    ValidationTotals,
)
from chalicelib.scenarios.stages import STAGE_MESSAGES, STAGES, month_stage, stage_message
from chalicelib.scenarios.validation import validate_scenario

__all__ = [
    "SCENARIO_TYPES",
    "STAGES",
    "STAGE_MESSAGES",
    "BusinessEvent",
    "CompanyProfile",
    "MonthlyTrend",
    "ScenarioType",
    "ValidationCheck",
    "ValidationReport",
    "ValidationTotals",
    "generate_month_events",
    "generate_profile",
    "generate_trends",
    "month_stage",
    "stage_message",
    "validate_scenario",
]
