"""The stages a scenario goes through, and the words a user sees for each."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from chalicelib.scenarios.months import MONTH_NAMES

QUEUED = "queued"
STARTING = "starting"
GENERATING_PROFILE = "stage1_generating"
GENERATING_TRENDS = "stage2_trends"
STORING = "storing"
VALIDATING = "validating"
COMPLETED = "completed"
FAILED = "failed"


def month_stage(month: int) -> str:
    """The stage that generates the events of `month` (1..12)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return f"stage3_month_{month}"


MONTH_STAGES: tuple[str, ...] = tuple(month_stage(month) for month in range(1, 13))

# In the order a successful run goes through them; `failed` can follow any of them.
STAGES: tuple[str, ...] = (
    QUEUED,
    STARTING,
    GENERATING_PROFILE,
    GENERATING_TRENDS,
    *MONTH_STAGES,
    STORING,
    VALIDATING,
    COMPLETED,
    FAILED,
)

STAGE_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        QUEUED: "Queued...",
        STARTING: "Starting...",
        GENERATING_PROFILE: "Generating company data and structure...",
        GENERATING_TRENDS: "Creating monthly business trends...",
        **{
            stage: f"Generating {name} events..."
            for stage, name in zip(MONTH_STAGES, MONTH_NAMES, strict=True)
        },
        STORING: "Storing events...",
        VALIDATING: "Running consistency validation...",
        COMPLETED: "Complete!",
        FAILED: "Failed",
    }
)


def stage_message(stage: str) -> str:
    """What the user reads while a scenario is in `stage`; unknown stages are an error."""
    try:
        return STAGE_MESSAGES[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}") from None
