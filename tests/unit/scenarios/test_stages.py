"""The words a user sees for each stage of a scenario."""

from __future__ import annotations

import pytest

from chalicelib.scenarios import STAGE_MESSAGES, STAGES, month_stage, stage_message

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@pytest.mark.parametrize(("month", "name"), list(enumerate(MONTHS, start=1)))
def test_every_month_stage_names_its_month(month: int, name: str) -> None:
    assert month_stage(month) == f"stage3_month_{month}"
    assert stage_message(f"stage3_month_{month}") == f"Generating {name} events..."


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ("queued", "Queued..."),
        ("starting", "Starting..."),
        ("stage1_generating", "Generating company data and structure..."),
        ("stage2_trends", "Creating monthly business trends..."),
        ("storing", "Storing events..."),
        ("validating", "Running consistency validation..."),
        ("completed", "Complete!"),
        ("failed", "Failed"),
    ],
)
def test_fixed_stages_have_their_words(stage: str, message: str) -> None:
    assert stage_message(stage) == message


def test_stages_run_in_order_and_all_have_words() -> None:
    assert STAGES[:4] == ("queued", "starting", "stage1_generating", "stage2_trends")
    assert STAGES[4:16] == tuple(f"stage3_month_{month}" for month in range(1, 13))
    assert STAGES[16:] == ("storing", "validating", "completed", "failed")
    assert set(STAGE_MESSAGES) == set(STAGES)


@pytest.mark.parametrize("stage", ["stage3_month_13", "stage3_month_0", "done", ""])
def test_unknown_stages_are_refused(stage: str) -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        stage_message(stage)


@pytest.mark.parametrize("month", [0, 13])
def test_month_stages_exist_only_for_real_months(month: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.12"):
        month_stage(month)
