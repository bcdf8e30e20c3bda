"""DeliveryOutcome: the status codes and headers of QStash's delivery contract."""

from __future__ import annotations

import pytest

from chalicelib.queue.outcome import NON_RETRYABLE_STATUS, DeliveryOutcome


def test_done_is_200_with_ok_and_the_details() -> None:
    outcome = DeliveryOutcome.done(status="completed", events=12)
    assert outcome.status_code == 200
    assert outcome.body == {"ok": True, "status": "completed", "events": 12}
    assert outcome.headers == {}


@pytest.mark.parametrize(
    ("after_seconds", "headers"),
    [
        (None, {}),
        (30, {"Retry-After": "30"}),
        (1, {"Retry-After": "1"}),
        (0, {"Retry-After": "1"}),
        (-7, {"Retry-After": "1"}),
    ],
)
def test_retry_later_is_503_with_a_retry_after_of_at_least_one_second(
    after_seconds: int | None, headers: dict[str, str]
) -> None:
    outcome = DeliveryOutcome.retry_later("busy", after_seconds)
    assert outcome.status_code == 503
    assert outcome.body == {"error": "busy"}
    assert outcome.headers == headers


def test_failed_is_a_plain_500_that_qstash_retries() -> None:
    outcome = DeliveryOutcome.failed("stage crashed")
    assert (outcome.status_code, outcome.body, outcome.headers) == (
        500,
        {"error": "stage crashed"},
        {},
    )


def test_rejected_permanently_is_489_with_the_non_retryable_header() -> None:
    outcome = DeliveryOutcome.rejected_permanently("bad payload")
    assert outcome.status_code == NON_RETRYABLE_STATUS == 489
    assert outcome.body == {"error": "bad payload"}
    assert outcome.headers == {"Upstash-NonRetryable-Error": "true"}


def test_unauthenticated_is_401_without_headers() -> None:
    outcome = DeliveryOutcome.unauthenticated("forged")
    assert (outcome.status_code, outcome.body, outcome.headers) == (401, {"error": "forged"}, {})


def test_outcomes_do_not_share_their_bodies_or_headers() -> None:
    first, second = DeliveryOutcome.failed("a"), DeliveryOutcome.failed("b")
    first.headers["X"] = "1"
    assert second.headers == {}
    assert DeliveryOutcome(status_code=204).body == {}
