"""The worker Lambda's edge: Function URL events (signed) and direct invokes, to run_generation."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.handlers.worker import worker
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.settings import Settings, get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery

WORKER_URL = "https://abc123.lambda-url.us-east-1.on.aws/"
SCENARIO_ID = "0123456789abcdef0123456789abcdef"
MESSAGE_BODY = {"scenarioId": SCENARIO_ID, "run": 2, "continuation": 1}
REMAINING_MS = 812_345


class LambdaContext:
    """What the worker asks of its Lambda context."""

    function_name = "longhaul-dev-worker"

    def get_remaining_time_in_millis(self) -> int:
        return REMAINING_MS


@dataclass
class FakeRun:
    """Stands in for run_environment + run_generation: records runs, answers `outcome`.

    Also stands in for the worker's lookup of its own Function URL (`own_url`), which would
    otherwise ask the Lambda API.
    """

    outcome: DeliveryOutcome = field(default_factory=lambda: DeliveryOutcome.done(status="x"))
    messages: list[GenerationMessage] = field(default_factory=list)
    budgets: list[int] = field(default_factory=list)
    own_url: str | None = None
    url_lookups: list[tuple[str, str]] = field(default_factory=list)
    continuation_urls: list[str | None] = field(default_factory=list)

    def run_environment(
        self, settings: Settings, remaining_ms: Callable[[], int], worker_url: str | None
    ) -> object:
        self.budgets.append(remaining_ms())
        self.continuation_urls.append(worker_url)
        return self

    def own_function_url(self, function_name: str, region: str) -> str | None:
        self.url_lookups.append((function_name, region))
        return self.own_url

    def run_generation(self, message: GenerationMessage, env: object) -> DeliveryOutcome:
        assert env is self
        self.messages.append(message)
        return self.outcome


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRun]:
    """Worker settings from the environment, and a fake run in place of the real one."""
    monkeypatch.setenv("WORKER_URL", WORKER_URL)
    monkeypatch.setenv("QSTASH_CURRENT_SIGNING_KEY", DEV_CURRENT_SIGNING_KEY)
    monkeypatch.setenv("QSTASH_NEXT_SIGNING_KEY", DEV_NEXT_SIGNING_KEY)
    fake = FakeRun()
    monkeypatch.setattr("chalicelib.scenarios.runtime.run_environment", fake.run_environment)
    monkeypatch.setattr("chalicelib.scenarios.runner.run_generation", fake.run_generation)
    monkeypatch.setattr("chalicelib.handlers.worker._own_function_url", fake.own_function_url)
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


def function_url_event(
    body: bytes,
    *,
    signature: str | None = "sign",
    url: str = WORKER_URL,
    key: str = DEV_CURRENT_SIGNING_KEY,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """A payload v2 event as a Function URL delivers QStash's POST of `body`.

    `signature="sign"` signs `body` for `url` with `key`; None sends no signature header;
    anything else is sent as the header as is.
    """
    headers = {"content-type": "application/json", "upstash-message-id": "msg_1"}
    if signature == "sign":
        signature = sign_delivery(key=key, url=url, body=body, now=time.time())
    if signature is not None:
        headers["upstash-signature"] = signature
    return {
        "version": "2.0",
        "rawPath": "/",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": base64.b64encode(body).decode() if base64_encoded else body.decode(),
        "isBase64Encoded": base64_encoded,
    }


def answered(result: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A Function URL answer as (status, parsed JSON body, headers)."""
    assert result["headers"]["Content-Type"] == "application/json"
    return result["statusCode"], json.loads(result["body"]), result["headers"]


ENCODED = json.dumps(MESSAGE_BODY).encode()


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain body", "base64 body"])
@pytest.mark.parametrize("key", [DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY])
def test_a_signed_delivery_runs_the_message_and_answers_the_outcome(
    run: FakeRun, base64_encoded: bool, key: str
) -> None:
    run.outcome = DeliveryOutcome.retry_later("busy", 17)
    event = function_url_event(ENCODED, key=key, base64_encoded=base64_encoded)

    status, body, headers = answered(worker(event, LambdaContext()))

    assert run.messages == [GenerationMessage(scenario_id=SCENARIO_ID, run=2, continuation=1)]
    assert run.budgets == [REMAINING_MS]
    assert run.url_lookups == []
    assert (status, body) == (503, {"error": "busy"})
    assert headers["Retry-After"] == "17"


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(function_url_event(ENCODED, signature=None), id="missing"),
        pytest.param(function_url_event(ENCODED, signature="eyJhbGciOi.forged.x"), id="garbage"),
        pytest.param(
            function_url_event(ENCODED, key="sig_someoneElsesKeyOfThirtyTwoBytes"), id="forged"
        ),
        pytest.param(
            function_url_event(ENCODED, url="https://elsewhere.example/"), id="another url"
        ),
        pytest.param(
            {**function_url_event(ENCODED), "body": json.dumps({**MESSAGE_BODY, "run": 9})},
            id="body changed after signing",
        ),
    ],
)
def test_a_delivery_without_a_valid_signature_is_401_and_runs_nothing(
    run: FakeRun, event: dict[str, Any]
) -> None:
    status, body, headers = answered(worker(event, LambdaContext()))

    assert status == 401
    assert body["error"].startswith("signature rejected")
    assert "Upstash-NonRetryable-Error" not in headers
    assert run.messages == []


@pytest.mark.parametrize(
    ("own_url", "signed_for", "status"),
    [
        pytest.param(WORKER_URL, WORKER_URL, 200, id="own url signed"),
        pytest.param(WORKER_URL, "https://elsewhere.example/", 401, id="another url signed"),
        pytest.param(None, WORKER_URL, 401, id="own url unknown"),
    ],
)
def test_without_a_configured_url_the_worker_verifies_against_its_own_function_url(
    run: FakeRun,
    monkeypatch: pytest.MonkeyPatch,
    own_url: str | None,
    signed_for: str,
    status: int,
) -> None:
    monkeypatch.setenv("WORKER_URL", "")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    get_settings.cache_clear()
    run.own_url = own_url

    result = worker(function_url_event(ENCODED, url=signed_for), LambdaContext())

    assert result["statusCode"] == status
    assert run.url_lookups == [("longhaul-dev-worker", "eu-west-1")]
    assert len(run.messages) == (1 if status == 200 else 0)
    # Continuations go to the URL the worker found, not to an unset WORKER_URL.
    assert run.continuation_urls == ([own_url] if status == 200 else [])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"not json at all", "body is not JSON", id="not json"),
        pytest.param(b'{"scenarioId": "bad id!"}', "invalid generation message", id="bad id"),
        pytest.param(json.dumps({**MESSAGE_BODY, "x": 1}).encode(), "invalid", id="extra field"),
        pytest.param(b"[1, 2]", "invalid generation message", id="not an object"),
    ],
)
def test_a_signed_but_unusable_body_is_rejected_for_good_with_489(
    run: FakeRun, raw: bytes, reason: str
) -> None:
    status, body, headers = answered(worker(function_url_event(raw), LambdaContext()))

    assert status == 489
    assert headers["Upstash-NonRetryable-Error"] == "true"
    assert reason in body["error"]
    assert run.messages == []


def test_a_direct_invoke_runs_without_a_signature(run: FakeRun) -> None:
    run.outcome = DeliveryOutcome.done(status="completed", events=3)

    status, body, _ = answered(worker({"longhaulGeneration": MESSAGE_BODY}, LambdaContext()))

    assert run.messages == [GenerationMessage(scenario_id=SCENARIO_ID, run=2, continuation=1)]
    assert (status, body) == (200, {"ok": True, "status": "completed", "events": 3})


@pytest.mark.parametrize(
    "outcome",
    [DeliveryOutcome.failed("stage2 failed: boom"), DeliveryOutcome.retry_later("busy", 5)],
    ids=["500", "503"],
)
def test_a_direct_invoke_that_must_be_retried_raises_so_lambda_retries(
    run: FakeRun, outcome: DeliveryOutcome
) -> None:
    run.outcome = outcome

    with pytest.raises(RuntimeError, match=outcome.body["error"]):
        worker({"longhaulGeneration": MESSAGE_BODY}, LambdaContext())

    assert len(run.messages) == 1


def test_a_direct_invoke_with_an_invalid_message_is_answered_not_raised(run: FakeRun) -> None:
    status, _, headers = answered(
        worker({"longhaulGeneration": {"scenarioId": "x"}}, LambdaContext())
    )
    assert status == 489
    assert headers["Upstash-NonRetryable-Error"] == "true"
    assert run.messages == []


def test_a_function_url_failure_is_answered_for_qstash_to_retry(run: FakeRun) -> None:
    run.outcome = DeliveryOutcome.failed("stage2 failed: boom")

    status, body, _ = answered(worker(function_url_event(ENCODED), LambdaContext()))

    assert (status, body) == (500, {"error": "stage2 failed: boom"})
    assert len(run.messages) == 1


def test_a_function_url_event_carrying_the_direct_key_still_needs_a_signature(
    run: FakeRun,
) -> None:
    event = {**function_url_event(ENCODED, signature=None), "longhaulGeneration": MESSAGE_BODY}

    status, _, _ = answered(worker(event, LambdaContext()))

    assert status == 401
    assert run.messages == []


def _destination_record(payload: dict[str, Any] | None, count: int = 3) -> dict[str, Any]:
    """What Lambda sends an on-failure destination once an asynchronous invoke gave up."""
    return {
        "version": "1.0",
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": count},
        "requestPayload": payload,
        "responsePayload": {"errorMessage": "storing failed: ClientError"},
    }


def test_a_fallback_run_lambda_gave_up_on_is_marked_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.handlers.worker import fallback_failed
    from chalicelib.scenarios.records import ScenarioRecord
    from chalicelib.scenarios.runtime import DIRECT_EVENT_KEY
    from tests.fakes.scenario_store import InMemoryScenarioStore

    store = InMemoryScenarioStore()
    now = datetime.now(UTC)
    store.create(
        ScenarioRecord(
            scenario_id=SCENARIO_ID, scenario_type="bakery", seed=1, created_at=now, updated_at=now
        )
    )
    monkeypatch.setattr("chalicelib.scenarios.runtime.scenario_store", lambda _: store)
    payload = {DIRECT_EVENT_KEY: {"scenarioId": SCENARIO_ID, "run": 1}}

    assert fallback_failed(_destination_record(payload), LambdaContext()) == {"changed": True}
    record = store.get(SCENARIO_ID)
    assert record is not None
    assert record.status == "failed"
    assert record.error == "Generation failed after 3 attempts: storing failed: ClientError"


@pytest.mark.parametrize(
    "payload", [None, {"something": "else"}, {"longhaulGeneration": {"scenarioId": "x"}}]
)
def test_a_failure_record_that_is_not_a_generation_changes_nothing(
    payload: dict[str, Any] | None,
) -> None:
    from chalicelib.handlers.worker import fallback_failed

    assert fallback_failed(_destination_record(payload), LambdaContext()) == {"changed": False}
