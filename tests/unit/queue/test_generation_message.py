"""GenerationMessage: what the worker accepts, and QStash deduplication ids per run."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.scenarios.messages import GenerationMessage

SCENARIO_ID = "0123456789abcdef0123456789abcdef"


def test_a_message_is_read_by_alias_and_by_name_with_defaults() -> None:
    by_alias = GenerationMessage.model_validate({"scenarioId": SCENARIO_ID})
    by_name = GenerationMessage(scenario_id=SCENARIO_ID)
    assert by_alias == by_name
    assert (by_alias.run, by_alias.continuation) == (1, 0)
    assert by_alias.model_dump(by_alias=True) == {
        "scenarioId": SCENARIO_ID,
        "run": 1,
        "continuation": 0,
    }


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no id"),
        pytest.param({"scenarioId": "short"}, id="id too short"),
        pytest.param({"scenarioId": "0123456789ABCDEF0123456789ABCDEF"}, id="id not lower hex"),
        pytest.param({"scenarioId": "0123456789abcdef-r1-c1-456789abcd"}, id="id with dashes"),
        pytest.param({"scenarioId": "x" * 65}, id="id too long"),
        pytest.param({"scenarioId": "abc def ghi"}, id="id with a space"),
        pytest.param({"scenarioId": "../../etc/passwd"}, id="id with slashes"),
        pytest.param({"scenarioId": 12345678}, id="id not a string"),
        pytest.param({"scenarioId": SCENARIO_ID, "run": 0}, id="run 0"),
        pytest.param({"scenarioId": SCENARIO_ID, "run": -1}, id="negative run"),
        pytest.param({"scenarioId": SCENARIO_ID, "continuation": -1}, id="negative continuation"),
        pytest.param({"scenarioId": SCENARIO_ID, "extra": 1}, id="extra field"),
        pytest.param([SCENARIO_ID], id="not an object"),
    ],
)
def test_invalid_messages_are_refused(data: Any) -> None:
    with pytest.raises(ValidationError):
        GenerationMessage.model_validate(data)


def test_the_first_message_of_the_first_run_is_deduplicated_by_the_scenario_id() -> None:
    assert GenerationMessage(scenario_id=SCENARIO_ID).deduplication_id() == SCENARIO_ID


def test_every_other_message_has_a_deduplication_id_of_its_own() -> None:
    ids = [
        GenerationMessage(
            scenario_id=SCENARIO_ID, run=run, continuation=continuation
        ).deduplication_id()
        for run in (1, 2, 3)
        for continuation in (0, 1, 2)
    ]
    assert len(set(ids)) == len(ids)
    assert all(SCENARIO_ID in dedup and len(dedup) <= 200 for dedup in ids)


def test_ids_of_two_scenarios_never_collide() -> None:
    first = GenerationMessage(scenario_id="a" * 32, run=2, continuation=1).deduplication_id()
    second = GenerationMessage(scenario_id="a" * 31 + "b", run=2, continuation=1).deduplication_id()
    assert first != second
