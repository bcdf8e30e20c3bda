"""Build the scenario machinery from settings: the store, the sender, the worker's environment.

Kept apart from the domain logic so that `runner` and `service` take plain collaborators (and
unit tests pass fakes), while the edges get the real ones from here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from chalicelib.observability import logger
from chalicelib.queue.dispatch import DispatchResult, dispatch
from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.scenarios.dynamodb_store import DynamoDBScenarioStore
from chalicelib.scenarios.messages import GenerationMessage
from chalicelib.scenarios.runner import RunEnvironment, run_generation
from chalicelib.scenarios.service import fail_exhausted_run
from chalicelib.scenarios.store import ScenarioStore
from chalicelib.settings import Settings

FAILURE_CALLBACK_PATH = "/api/scenarios/failure-callback"
# A direct (fallback) invocation of the worker carries the message under this key.
DIRECT_EVENT_KEY = "longhaulGeneration"
# A locally run fallback gets as long as the deployed worker would.
LOCAL_TIME_BUDGET_MS = 900_000

Sender = Callable[[GenerationMessage], DispatchResult]


def scenario_store(settings: Settings) -> ScenarioStore:
    """The DynamoDB store of `settings`' table."""
    from chalicelib.dynamodb import dynamodb_client

    return DynamoDBScenarioStore(
        dynamodb_client(settings),
        settings.longhaul_table,
        retention=timedelta(days=settings.scenario_retention_days),
    )


def generation_sender(settings: Settings, worker_url: str | None = None) -> Sender:
    """Send generation messages through QStash, falling back as `dispatch` decides.

    `worker_url` overrides the configured one: a deployed worker knows its own URL only by
    asking Lambda, and sends its continuations there.
    """
    from chalicelib.queue.publisher import QStashPublisher
    from chalicelib.queue.qstash_client import qstash_client

    destination = worker_url or settings.worker_url
    # Without a public URL there is no failure callback, and a message whose retries ran out
    # would leave its scenario processing forever: such a setup does not publish at all.
    usable = settings.qstash_configured and destination and settings.public_base_url
    publisher = QStashPublisher(qstash_client(settings)) if usable else None

    def send(message: GenerationMessage) -> DispatchResult:
        outgoing = OutgoingMessage(
            url=destination or "",
            body=message.model_dump(by_alias=True),
            deduplication_id=message.deduplication_id(),
            failure_callback=settings.public_url(FAILURE_CALLBACK_PATH),
            retries=settings.worker_retries,
        )
        return dispatch(
            outgoing, publisher=publisher, fallback=lambda: run_fallback(message, settings)
        )

    return send


def run_environment(
    settings: Settings, remaining_ms: Callable[[], int], worker_url: str | None = None
) -> RunEnvironment:
    """What `run_generation` needs, for the deployed worker or a local fallback."""
    return RunEnvironment(
        store=scenario_store(settings),
        continue_later=generation_sender(settings, worker_url),
        remaining_ms=remaining_ms,
        reserve_ms=settings.worker_reserve_seconds * 1000,
    )


def run_fallback(message: GenerationMessage, settings: Settings) -> None:
    """Run the worker without QStash: an async Lambda invoke, or a local background thread."""
    if settings.worker_fallback == "lambda":
        _invoke_worker_async(message, settings)
    else:
        threading.Thread(
            target=run_with_retries, args=(message, settings), name="worker-fallback", daemon=True
        ).start()


def _invoke_worker_async(message: GenerationMessage, settings: Settings) -> None:
    import boto3

    boto3.client("lambda", region_name=settings.aws_region).invoke(
        FunctionName=settings.worker_function,
        InvocationType="Event",
        Payload=json.dumps({DIRECT_EVENT_KEY: message.model_dump(by_alias=True)}).encode(),
    )


def run_with_retries(message: GenerationMessage, settings: Settings) -> DeliveryOutcome:
    """Run a generation in this process, retrying as QStash would; a run that never succeeds
    is marked failed, so the work is never silently lost."""
    started = time.monotonic()

    def remaining_ms() -> int:
        return LOCAL_TIME_BUDGET_MS - int((time.monotonic() - started) * 1000)

    outcome = DeliveryOutcome.failed("not run")
    for attempt in range(settings.worker_retries + 1):
        try:
            outcome = run_generation(message, run_environment(settings, remaining_ms))
        except Exception as exc:  # a thread that dies would lose the work without a trace
            logger.exception("fallback attempt failed", extra={"scenario_id": message.scenario_id})
            outcome = DeliveryOutcome.failed(f"attempt failed ({type(exc).__name__})")
        if outcome.status_code < 300:
            return outcome
        time.sleep(float(outcome.headers.get("Retry-After", 2**attempt)))
    try:
        fail_exhausted_run(
            scenario_store(settings),
            message,
            attempts=settings.worker_retries + 1,
            last_error=str(outcome.body.get("error", "unknown error")),
        )
    except Exception:
        logger.exception(
            "could not mark the scenario failed", extra={"scenario_id": message.scenario_id}
        )
    return outcome
