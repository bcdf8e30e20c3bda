"""DeliveryCallback: the body QStash POSTs to a (failure) callback, with base64 fields."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.queue.callbacks import DeliveryCallback, UnreadableCallbackError

SOURCE = {"scenarioId": "abcdef12", "run": 2}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def callback(**fields: Any) -> DeliveryCallback:
    """A failure callback as QStash sends it, with `fields` replacing the defaults."""
    body: dict[str, Any] = {
        "status": 500,
        "body": b64(b'{"error": "stage2 failed: boom"}'),
        "retried": 3,
        "maxRetries": 3,
        "sourceMessageId": "msg_123",
        "url": "https://worker.example/",
        "sourceBody": b64(json.dumps(SOURCE).encode()),
        "dlqId": "dlq_1",
        "sourceHeader": {"Upstash-Retries": ["3"]},
        **fields,
    }
    return DeliveryCallback.model_validate(body)


def test_fields_are_read_by_their_qstash_names() -> None:
    parsed = callback()
    assert parsed.status == 500
    assert parsed.max_retries == 3
    assert parsed.source_message_id == "msg_123"
    assert parsed.dlq_id == "dlq_1"


@pytest.mark.parametrize(("retried", "attempts"), [(0, 1), (3, 4)])
def test_attempts_count_the_first_delivery_too(retried: int, attempts: int) -> None:
    assert callback(retried=retried).attempts == attempts


def test_source_json_is_the_original_message() -> None:
    assert callback().source_json() == SOURCE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b64(b'{"error": "stage2 failed: boom"}'), "stage2 failed: boom", id="json"),
        pytest.param(b64(b"  upstream timed out\n"), "upstream timed out", id="plain text"),
        pytest.param(b64(b'{"error": {"code": 7}}'), '{"error": {"code": 7}}', id="non-text error"),
        pytest.param(b64(b'["error"]'), '["error"]', id="json list"),
        pytest.param(None, "status 500", id="no body"),
        pytest.param("", "status 500", id="empty body"),
        pytest.param(b64(b"x" * 600), "x" * 500, id="truncated"),
    ],
)
def test_last_error_is_the_error_field_or_the_text(body: str | None, expected: str) -> None:
    assert callback(body=body).last_error() == expected


@pytest.mark.parametrize(
    "source_body",
    [
        pytest.param("%%% not base64 %%%", id="not base64"),
        pytest.param(b64(b"not json"), id="not json"),
        pytest.param(b64(b"\xff\xfe"), id="not utf-8"),
    ],
)
def test_an_unreadable_source_body_raises(source_body: str) -> None:
    with pytest.raises(UnreadableCallbackError):
        callback(sourceBody=source_body).source_json()


def test_an_unreadable_answer_body_raises() -> None:
    with pytest.raises(UnreadableCallbackError):
        callback(body="%%%").last_error()
