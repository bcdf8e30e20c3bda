"""The job edges through the app: the processor route's bearer token and actions (Chalice's
test client), the drain route's signature check, and an enqueue that asks QStash to drain.

The app's job edges are pointed at the test's queue and registry; the local stack's own
drainer keeps to the default queue, so it never takes a job from these tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from chalice.test import Client

from chalicelib.jobs import catalogue, runtime
from chalicelib.jobs import queue as queue_module
from chalicelib.jobs.models import JobOutcome, JobSpec
from chalicelib.jobs.names import DRAIN_PATH
from chalicelib.jobs.queue import JobQueue, enqueue_job
from chalicelib.jobs.registry import JobRegistry
from chalicelib.jobs.runtime import JobRuntime
from chalicelib.settings import get_settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery
from devstack.stack import LocalStack
from tests.integration.jobs.conftest import Recorder
from tests.waiting import wait_until

PROCESS = "/api/jobs/process"
LOCAL_TOKEN = "longhaul-local-job-processor-token"  # the local stage's, in .chalice/config.json


@pytest.fixture
def app_jobs(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    queue: JobQueue,
    registry: JobRegistry,
    persistence: BasePersistenceLayer,
) -> Iterator[JobRuntime]:
    """The app's job edges (in this process) work on the test's queue and handlers."""
    jobs = JobRuntime(queue, registry, persistence)
    monkeypatch.setattr(runtime, "job_runtime", lambda settings, handlers: jobs)
    monkeypatch.setattr(catalogue, "load_job_handlers", lambda: registry)
    get_settings.cache_clear()
    yield jobs
    get_settings.cache_clear()


def post_process(
    client: Client, body: dict[str, Any], token: str | None = LOCAL_TOKEN, scheme: str = "Bearer"
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    return client.http.post(PROCESS, headers=headers, body=json.dumps(body))


def note(text: str = "hi", **options: Any) -> JobSpec:
    return JobSpec.model_validate({"job_type": "note", "payload": {"text": text}, **options})


@pytest.mark.parametrize(
    ("token", "scheme"),
    [(None, "Bearer"), ("wrong-token", "Bearer"), (LOCAL_TOKEN, "Basic"), ("", "Bearer")],
)
def test_the_processor_refuses_a_missing_or_wrong_token_and_does_nothing(
    app_client: Client,
    app_jobs: JobRuntime,
    recorder: Recorder,
    token: str | None,
    scheme: str,
) -> None:
    job_id = app_jobs.queue.enqueue(note()).job_id

    response = post_process(app_client, {"action": "process-batch"}, token, scheme)

    assert response.status_code == 401
    assert recorder.runs == []
    status = app_jobs.queue.status(job_id)
    assert status is not None
    assert status.state == "ready"


def test_without_a_configured_token_every_call_is_refused(
    app_client: Client, app_jobs: JobRuntime, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_jobs.queue.enqueue(note())
    monkeypatch.delenv("JOB_PROCESSOR_SECRET_TOKEN")
    get_settings.cache_clear()

    response = post_process(app_client, {"action": "process-batch"})

    assert response.status_code == 401
    assert recorder.runs == []


def test_process_batch_runs_ready_jobs_and_reports_them(
    app_client: Client, app_jobs: JobRuntime, recorder: Recorder
) -> None:
    ids = [answer.job_id for answer in app_jobs.queue.enqueue_many([note("a"), note("b")])]

    response = post_process(app_client, {"action": "process-batch", "limit": 1})
    rest = post_process(app_client, {"action": "process-batch", "types": ["note"]})

    assert response.status_code == 200, response.body
    assert response.json_body["claimed"] == 1
    assert response.json_body["jobs"][0]["jobId"] == ids[0]
    assert response.json_body["jobs"][0]["state"] == "completed"
    assert rest.json_body["completed"] == 1
    assert [job_id for job_id, _ in recorder.runs] == ids


def test_stats_and_dead_letters_report_the_queue(app_client: Client, app_jobs: JobRuntime) -> None:
    queue = app_jobs.queue
    dead_id = queue.enqueue(note("dead")).job_id
    (job,) = queue.claim(types=["note"])
    queue.finish([JobOutcome.dead(job, "refused for good")])
    queue.enqueue(note("waiting"))

    stats = post_process(app_client, {"action": "stats"})
    letters = post_process(app_client, {"action": "dead-letters", "limit": 5})

    assert stats.status_code == 200
    assert stats.json_body["types"]["note"] == {
        "ready": 1,
        "delayed": 0,
        "inFlight": 0,
        "completed": 0,
        "dead": 1,
    }
    assert stats.json_body["totals"]["dead"] == 1
    assert [(letter["jobId"], letter["lastError"]) for letter in letters.json_body["jobs"]] == [
        (dead_id, "refused for good")
    ]


def test_retry_moves_a_dead_job_back_and_says_why_it_cannot_otherwise(
    app_client: Client, app_jobs: JobRuntime
) -> None:
    queue = app_jobs.queue
    dead_id = queue.enqueue(note()).job_id
    (job,) = queue.claim(types=["note"])
    queue.finish([JobOutcome.dead(job, "broken")])
    ready_id = queue.enqueue(note("ready")).job_id

    missing = post_process(app_client, {"action": "retry"})
    unknown = post_process(app_client, {"action": "retry", "jobId": "0" * 32})
    malformed = post_process(app_client, {"action": "retry", "jobId": "../etc"})
    not_dead = post_process(app_client, {"action": "retry", "jobId": ready_id})
    retried = post_process(app_client, {"action": "retry", "jobId": dead_id})

    assert missing.status_code == 400
    assert missing.json_body["fields"] == [{"field": "jobId", "reason": "required to retry"}]
    assert (unknown.status_code, malformed.status_code) == (404, 404)
    assert not_dead.status_code == 409
    assert "ready" in not_dead.json_body["error"]
    assert retried.status_code == 200
    status = queue.status(dead_id)
    assert status is not None
    assert (status.state, status.attempts) == ("ready", 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "explode"}, "action"),
        ({"action": "process-batch", "limit": 0}, "limit"),
        ({"action": "process-batch", "limit": 101}, "limit"),
        ({"action": "process-batch", "types": ["Not A Type"]}, "types.0"),
        ({"action": "process-batch", "types": []}, "types"),
        ({"action": "stats", "surprise": 1}, "surprise"),
    ],
)
def test_a_bad_body_is_a_400_with_the_field_and_changes_nothing(
    app_client: Client,
    app_jobs: JobRuntime,
    recorder: Recorder,
    body: dict[str, Any],
    field: str,
) -> None:
    app_jobs.queue.enqueue(note())

    response = post_process(app_client, body)

    assert response.status_code == 400
    assert field in [problem["field"] for problem in response.json_body["fields"]]
    assert recorder.runs == []


def drain_request(client: Client, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Upstash-Signature"] = signature
    return client.http.post(DRAIN_PATH, headers=headers, body=body)


def test_the_drain_route_refuses_a_forged_or_missing_signature_and_does_nothing(
    app_client: Client, app_jobs: JobRuntime, recorder: Recorder
) -> None:
    app_jobs.queue.enqueue(note())
    body = json.dumps({"types": ["note"]}).encode()
    url = get_settings().public_url(DRAIN_PATH) or ""
    forged = sign_delivery(key="sig_not_the_real_key", url=url, body=body, now=time.time())
    elsewhere = sign_delivery(
        key=DEV_CURRENT_SIGNING_KEY, url=f"{url}/other", body=body, now=time.time()
    )

    answers = [
        drain_request(app_client, body, signature) for signature in (forged, elsewhere, None)
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert recorder.runs == []


def test_the_drain_route_processes_when_qstash_signed_the_request(
    app_client: Client, app_jobs: JobRuntime, recorder: Recorder
) -> None:
    ids = [answer.job_id for answer in app_jobs.queue.enqueue_many([note("a"), note("b")])]
    body = json.dumps({"types": ["note"]}).encode()
    url = get_settings().public_url(DRAIN_PATH) or ""

    answer = drain_request(
        app_client,
        body,
        sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=body, now=time.time()),
    )

    assert answer.status_code == 200, answer.body
    assert answer.json_body["completed"] == 2
    assert [job_id for job_id, _ in recorder.runs] == ids


def test_a_signed_drain_the_app_cannot_read_is_dead_lettered_by_qstash(
    app_client: Client, app_jobs: JobRuntime
) -> None:
    body = json.dumps({"types": ["Not A Type"]}).encode()
    url = get_settings().public_url(DRAIN_PATH) or ""

    answer = drain_request(
        app_client,
        body,
        sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=url, body=body, now=time.time()),
    )

    assert answer.status_code == 489
    assert answer.headers["Upstash-NonRetryable-Error"] == "true"


def test_an_enqueue_asks_qstash_to_drain_and_the_job_runs_at_once(
    app_jobs: JobRuntime, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The producer side of the app enqueues on the test's queue too.
    monkeypatch.setattr(queue_module, "settings_queue", lambda settings: app_jobs.queue)

    job_id = enqueue_job("note", {"text": "kicked"})

    wait_until(lambda: recorder.runs, timeout=15, what="the drain QStash was asked for")
    assert recorder.runs == [(job_id, 1)]
    wait_until(
        lambda: (status := app_jobs.queue.status(job_id)) and status.state == "completed",
        what="the job to be recorded as completed",
    )


class LambdaContextLeft:
    """A Lambda context that always has `seconds` left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


SCHEDULED_EVENT = {
    "version": "0",
    "id": "5f0b9e46-9e0a-4b4c-8f4c-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/drain_jobs"],
    "detail": {},
}


def test_the_scheduled_drain_empties_the_queue_while_a_visibility_timeout_is_left(
    app_jobs: JobRuntime, recorder: Recorder
) -> None:
    from chalicelib.handlers.jobs import drain_jobs

    app_jobs.queue.enqueue_many([note(str(n)) for n in range(25)])
    visibility = get_settings().job_visibility_timeout_seconds

    short = drain_jobs(SCHEDULED_EVENT, LambdaContextLeft(visibility - 1))
    assert (short["claimed"], recorder.runs) == (0, [])

    report = drain_jobs(SCHEDULED_EVENT, LambdaContextLeft(visibility + 60))
    assert (report["batches"], report["completed"]) == (3, 25)
    assert app_jobs.queue.stats().pending == 0
