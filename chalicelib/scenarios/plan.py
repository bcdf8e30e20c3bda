"""The stages of a generation and the progress each one shows, in the order they run."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.scenarios.stages import (
    GENERATING_PROFILE,
    GENERATING_TRENDS,
    STARTING,
    STORING,
    VALIDATING,
    month_stage,
)

MONTHS = 12


@dataclass(frozen=True)
class Stage:
    """One step of a run: progress shows `start` while it runs and `end` once it is done."""

    name: str
    start: int
    end: int


def _month_stage(month: int) -> Stage:
    # Stage 3 spreads its twelve months evenly over 50..80 %.
    return Stage(
        month_stage(month),
        50 + round(30 * (month - 1) / MONTHS),
        50 + round(30 * month / MONTHS),
    )


RUN_STAGES: tuple[Stage, ...] = (
    Stage(STARTING, 5, 5),
    Stage(GENERATING_PROFILE, 10, 30),
    Stage(GENERATING_TRENDS, 35, 45),
    *(_month_stage(month) for month in range(1, MONTHS + 1)),
    Stage(STORING, 85, 90),
    Stage(VALIDATING, 95, 95),
)
STAGE_NAMES = tuple(stage.name for stage in RUN_STAGES)
COMPLETED_PROGRESS = 100


def month_of(stage_name: str) -> int | None:
    """The month a `stage3_month_N` stage generates, or None for any other stage."""
    prefix = "stage3_month_"
    return int(stage_name.removeprefix(prefix)) if stage_name.startswith(prefix) else None
