"""The `local` stage's settings, read from `.chalice/config.json` so the stack and app agree."""

from __future__ import annotations

import json
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = PROJECT_DIR / ".chalice" / "config.json"


def stage_environment(stage: str = "local", config_file: Path = CHALICE_CONFIG) -> dict[str, str]:
    """The environment variables Chalice gives the app in `stage` (stage values win)."""
    config = json.loads(config_file.read_text())
    merged = dict(config.get("environment_variables", {}))
    merged.update(config["stages"][stage].get("environment_variables", {}))
    return {key: str(value) for key, value in merged.items()}
