"""A scenario from POST /api/generate to its results, through QStash, the worker and DynamoDB."""

from __future__ import annotations

import pytest

from chalicelib.scenarios.generation import (
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios.plan import STAGE_NAMES
from tests.integration.scenarios.conftest import ScenarioApi


def _expected_events(scenario_type: str, seed: int) -> int:
    profile = generate_profile(scenario_type, seed)  # type: ignore[arg-type]
    trends = generate_trends(profile, seed)
    return sum(len(generate_month_events(profile, trends, m, seed)) for m in range(1, 13))


@pytest.mark.parametrize("scenario_type", ["bakery", "hotel", "tech_startup"])
def test_each_type_completes_with_monotonic_progress(api: ScenarioApi, scenario_type: str) -> None:
    scenario_id = api.generate(scenario_type, seed=5)
    seen = api.watch(scenario_id)
    final = seen[-1]
    assert final["status"] == "completed", final
    assert final["progress"] == 100
    assert final["message"] == "Complete!"
    assert final["completedAt"] is not None
    assert final["eventsCount"] == _expected_events(scenario_type, 5)
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress), progress
    assert all(s["currentStage"] in (*STAGE_NAMES, "queued", "completed") for s in seen)

    result = api.http.get(f"{api.app_url}/api/scenarios/{scenario_id}").json()
    assert result["validation"]["ok"] is True
    assert len(result["trends"]) == 12
    assert result["profile"]["scenario_type"] == scenario_type
    assert result["totals"]["events_count"] == final["eventsCount"]


def test_events_come_in_stable_pages_that_cover_every_event(api: ScenarioApi) -> None:
    scenario_id = api.generate("bakery", seed=21)
    total = api.watch(scenario_id)[-1]["eventsCount"]
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": "400", **({"cursor": cursor} if cursor else {})}
        page = api.http.get(f"{api.app_url}/api/scenarios/{scenario_id}/events", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [event["event_id"] for event in body["events"]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert len(ids) == total
    assert ids == sorted(ids)
    assert len(set(ids)) == total


def test_the_status_etag_makes_an_unchanged_poll_a_304(api: ScenarioApi) -> None:
    scenario_id = api.generate("bakery", seed=3)
    api.watch(scenario_id)
    first = api.http.get(f"{api.app_url}/api/status/{scenario_id}")
    assert first.headers["Cache-Control"] == "no-store"
    again = api.http.get(
        f"{api.app_url}/api/status/{scenario_id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    other = api.http.get(
        f"{api.app_url}/api/status/{scenario_id}", headers={"If-None-Match": '"stale"'}
    )
    assert other.status_code == 200
