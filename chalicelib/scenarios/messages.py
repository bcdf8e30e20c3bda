"""The message that asks the worker to run (or continue) a scenario's generation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Scenario ids are uuid4 hex: with no dash in them, no id can mimic another's dedup suffix.
SCENARIO_ID_PATTERN = r"^[a-f0-9]{32}$"


class GenerationMessage(BaseModel):
    """Run `run` of scenario `scenarioId` from its last checkpoint."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    scenario_id: str = Field(alias="scenarioId", pattern=SCENARIO_ID_PATTERN)
    run: int = Field(default=1, ge=1)
    continuation: int = Field(default=0, ge=0)

    def deduplication_id(self) -> str:
        """QStash's deduplication id: the scenario id for a first run's first message.

        Later runs and continuations get ids of their own, or QStash would drop them as
        duplicates of the first message for ten minutes.
        """
        if self.run == 1 and self.continuation == 0:
            return self.scenario_id
        return f"{self.scenario_id}-r{self.run}-c{self.continuation}"
