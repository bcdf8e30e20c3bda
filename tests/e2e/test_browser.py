"""The pages in a real browser (Debian's Chromium driven by Playwright) against the whole stack.

Set UPDATE_SCREENSHOTS=1 to refresh the screenshots the README shows (docs/*.png).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from chalicelib.scenarios.records import ScenarioRecord
from chalicelib.scenarios.runtime import scenario_store
from chalicelib.settings import get_settings
from devstack.stack import LocalStack

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium's own background traffic would only be refused here; keep it quiet and local.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def _app_url(stack: LocalStack) -> str:
    return stack.app_environment()["PUBLIC_BASE_URL"]


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    page.wait_for_timeout(700)  # let the progress bar's width transition finish
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / name)


def _progress_value(page: Page) -> int | None:
    """The progress bar's value now, or None when there is no bar or the page is navigating."""
    try:
        value = page.evaluate(
            "() => document.querySelector('[role=progressbar]')"
            "?.getAttribute('aria-valuenow') ?? null"
        )
    except PlaywrightError:  # the watch page redirected to the results mid-read
        return None
    return None if value is None else int(value)


def test_a_generation_is_watched_to_its_results(
    page: Page, local_stack: LocalStack, tmp_path: Path
) -> None:
    page.goto(_app_url(local_stack) + "/")
    page.get_by_label("Hotel").check()
    page.get_by_label("Seed").fill("12")
    page.get_by_role("button", name="Generate").click()

    expect(page.get_by_role("progressbar")).to_be_visible()
    assert "?scenario=" in page.url
    watched_url = page.url
    scenario_id = watched_url.rsplit("=", 1)[1]
    seen: list[int] = []
    shot = reloaded = False
    deadline = time.monotonic() + 60
    while "/scenarios/" not in page.url:
        value = _progress_value(page)
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        if not shot and seen and 0 < seen[-1] < 100:
            _screenshot(page, tmp_path, "loading.png")
            shot = True
        if not reloaded and len(seen) >= 2 and "/scenarios/" not in page.url:
            # Reloading keeps watching the same generation (its id is in the URL); the
            # page may already have moved on to that generation's results.
            page.reload()
            reloaded = True
            assert scenario_id in page.url, page.url
        page.wait_for_timeout(200)
        assert time.monotonic() < deadline, f"the generation never finished: {seen}"
    assert seen == sorted(seen), seen
    assert len(seen) >= 2, f"the bar never moved: {seen}"

    expect(page.get_by_role("heading", level=1)).not_to_have_text("Loading the scenario...")
    expect(page.locator("svg.chart rect.revenue")).to_have_count(12)
    expect(page.locator("#validation-summary")).to_contain_text("checks passed")
    expect(page.locator("#events-table tbody tr")).to_have_count(50)
    first_event = page.locator("#events-table tbody tr").first.inner_text()
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#events-page")).to_have_text("Page 2")
    assert page.locator("#events-table tbody tr").first.inner_text() != first_event
    _screenshot(page, tmp_path, "results.png")


def _failed_scenario() -> str:
    store = scenario_store(get_settings())
    now = datetime.now(UTC)
    scenario_id = uuid.uuid4().hex
    store.create(
        ScenarioRecord(
            scenario_id=scenario_id,
            scenario_type="bakery",
            seed=3,
            created_at=now,
            updated_at=now,
        )
    )
    store.fail(
        scenario_id, run=1, error="Generation failed after 4 attempts: worker crashed", now=now
    )
    return scenario_id


def test_a_failed_generation_shows_its_error_and_try_again_recovers_it(
    page: Page, local_stack: LocalStack
) -> None:
    scenario_id = _failed_scenario()
    page.goto(f"{_app_url(local_stack)}/?scenario={scenario_id}")

    expect(page.get_by_role("alert")).to_contain_text("worker crashed")
    try_again = page.get_by_role("button", name="Try again")
    expect(try_again).to_be_focused()
    try_again.click()

    page.wait_for_url(f"**/scenarios/{scenario_id}", timeout=60_000)
    expect(page.locator("svg.chart")).to_be_visible()


def test_an_unreachable_api_is_said_and_polling_goes_on(
    page: Page, local_stack: LocalStack
) -> None:
    scenario_id = _failed_scenario()
    page.route("**/api/status/**", lambda route: route.abort())
    page.goto(f"{_app_url(local_stack)}/?scenario={scenario_id}")

    expect(page.get_by_role("status")).to_contain_text("cannot be reached")
    page.unroute("**/api/status/**")
    # Polling resumed by itself (after its backoff) and now shows the real state.
    expect(page.get_by_role("alert")).to_contain_text("worker crashed", timeout=15_000)
    expect(page.get_by_role("status")).to_be_hidden()


def _completed_scenario(app: str) -> str:
    """A bakery generated through the API (about 1,500 events: 30 pages), once it is complete."""
    with httpx.Client(base_url=app, timeout=30) as client:
        started = client.post("/api/generate", json={"scenarioType": "bakery", "seed": 7})
        assert started.status_code == 202, started.text
        scenario_id: str = started.json()["scenarioId"]
        deadline = time.monotonic() + 120
        while (status := client.get(f"/api/status/{scenario_id}").json())["status"] != "completed":
            assert status["status"] != "failed", status
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
    return scenario_id


@pytest.fixture(scope="module")
def completed_scenario(local_stack: LocalStack) -> str:
    """One completed scenario the results-page tests share (they only read it)."""
    return _completed_scenario(_app_url(local_stack))


def _events_url(scenario_id: str) -> str:
    return f"**/api/scenarios/{scenario_id}/events*"


def _open_first_page(page: Page, app: str, scenario_id: str) -> str:
    """Open the results page and return its first event row once page 1 is shown."""
    page.goto(f"{app}/scenarios/{scenario_id}")
    expect(page.locator("#events-page")).to_have_text("Page 1")
    expect(page.locator("#events-table tbody tr")).to_have_count(50)
    return page.locator("#events-table tbody tr").first.inner_text()


def test_a_double_click_on_next_moves_exactly_one_page(
    page: Page, local_stack: LocalStack, completed_scenario: str
) -> None:
    app = _app_url(local_stack)
    first_row = _open_first_page(page, app, completed_scenario)
    requested: list[str] = []

    def slow(route: Route) -> None:
        # Held long enough that the second click lands while page 2 is still loading.
        requested.append(route.request.url)
        time.sleep(0.5)
        route.continue_()

    page.route(_events_url(completed_scenario), slow)
    page.get_by_role("button", name="Next page").dblclick()

    expect(page.locator("#events-page")).to_have_text("Page 2")
    expect(page.get_by_role("button", name="Previous page")).to_be_enabled()
    # Disabled while loading, the button lost the focus; the pager gives it back.
    expect(page.get_by_role("button", name="Next page")).to_be_focused()
    assert len(requested) == 1, requested
    # Page 2 is what the API gives after page 1, not page 1 again.
    with httpx.Client(base_url=app, timeout=30) as client:
        events = f"/api/scenarios/{completed_scenario}/events"
        cursor = client.get(events, params={"limit": 50}).json()["nextCursor"]
        second = client.get(events, params={"limit": 50, "cursor": cursor}).json()["events"]
    shown = page.locator("#events-table tbody tr").first.inner_text()
    assert shown != first_row
    assert shown.startswith(second[0]["event_id"]), (shown, second[0])


def test_an_events_page_that_cannot_be_loaded_is_said_and_the_shown_page_stays(
    page: Page, local_stack: LocalStack, completed_scenario: str
) -> None:
    first_row = _open_first_page(page, _app_url(local_stack), completed_scenario)
    page.route(
        _events_url(completed_scenario),
        lambda route: route.fulfill(
            status=500, content_type="application/json", body=json.dumps({"error": "boom"})
        ),
    )
    next_page = page.get_by_role("button", name="Next page")
    next_page.click()

    expect(page.locator("#events-error")).to_have_text(
        "Page 2 cannot be loaded: the server answered 500. Try again in a moment."
    )
    expect(page.locator("#events-page")).to_have_text("Page 1")
    assert page.locator("#events-table tbody tr").first.inner_text() == first_row
    expect(next_page).to_be_enabled()

    # Once the server answers again, the same button gets there and the message goes away.
    page.unroute(_events_url(completed_scenario))
    next_page.click()
    expect(page.locator("#events-page")).to_have_text("Page 2")
    expect(page.locator("#events-error")).to_be_hidden()


def test_a_retry_that_cannot_reach_the_server_is_said_and_can_be_repeated(
    page: Page, local_stack: LocalStack
) -> None:
    scenario_id = _failed_scenario()
    page.goto(f"{_app_url(local_stack)}/?scenario={scenario_id}")
    expect(page.get_by_role("alert")).to_contain_text("worker crashed")

    retry_url = f"**/api/scenarios/{scenario_id}/retry"
    page.route(retry_url, lambda route: route.abort())
    try_again = page.get_by_role("button", name="Try again")
    try_again.click()
    expect(page.locator("#failure-message")).to_have_text(
        "The server cannot be reached. Try again in a moment."
    )
    expect(try_again).to_be_enabled()

    page.unroute(retry_url)
    try_again.click()
    page.wait_for_url(f"**/scenarios/{scenario_id}", timeout=60_000)
