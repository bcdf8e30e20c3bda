"""A scenario as the application stores it: its public state and its run's checkpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.scenarios.models import (
    CompanyProfile,
    MonthlyTrend,
    ScenarioType,
    ValidationReport,
)

ScenarioStatus = Literal["queued", "processing", "completed", "failed"]


class MonthSummary(BaseModel):
    """What one generated month holds, kept so storing can report without regenerating."""

    model_config = ConfigDict(frozen=True)

    events: int
    inflow_cents: int
    outflow_cents: int


class Checkpoint(BaseModel):
    """Where a run stands: what each finished stage produced, so a redelivery resumes there."""

    finished: tuple[str, ...] = ()
    profile: CompanyProfile | None = None
    trends: tuple[MonthlyTrend, ...] | None = None
    months: dict[int, MonthSummary] = Field(default_factory=dict)
    stored_months: int = 0
    continuations: int = 0


class ScenarioRecord(BaseModel):
    """One scenario: what the status endpoint shows plus what the worker needs to resume."""

    scenario_id: str
    scenario_type: ScenarioType
    seed: int
    status: ScenarioStatus = "queued"
    progress: int = Field(default=0, ge=0, le=100)
    current_stage: str = "queued"
    error: str | None = None
    events_count: int = 0
    run: int = 1
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)
    validation: ValidationReport | None = None
