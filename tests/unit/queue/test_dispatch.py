"""dispatch(): QStash when it takes the message, otherwise the fallback, counted with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.queue.dispatch import FallbackReason, dispatch
from chalicelib.queue.messages import OutgoingMessage, PublishReceipt
from chalicelib.queue.publisher import PublishFailedError

MESSAGE = OutgoingMessage(
    url="https://worker.example/run", body={"scenarioId": "abc12345"}, deduplication_id="abc12345"
)


class FakePublisher:
    """Accepts every message (recording it), or refuses every one with `error`."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.published: list[OutgoingMessage] = []

    def publish(self, message: OutgoingMessage) -> PublishReceipt:
        self.published.append(message)
        if self.error is not None:
            raise self.error
        return PublishReceipt(message_id=f"msg_{len(self.published)}")


class Fallback:
    """A fallback that counts how often it ran."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> None:
        self.runs += 1


def emf_records(captured: str) -> list[dict[str, Any]]:
    """The CloudWatch EMF documents (JSON lines with an `_aws` key) in captured stdout."""
    records = []
    for line in captured.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" in document:
            records.append(document)
    return records


def test_a_message_qstash_accepts_is_queued_and_the_fallback_never_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    publisher, fallback = FakePublisher(), Fallback()

    result = dispatch(MESSAGE, publisher=publisher, fallback=fallback)

    assert result.queued is True
    assert result.message_id == "msg_1"
    assert result.fallback is None
    assert publisher.published == [MESSAGE]
    assert fallback.runs == 0
    assert emf_records(capsys.readouterr().out) == []


@pytest.mark.parametrize(
    ("reason", "publisher", "enabled"),
    [
        ("disabled", FakePublisher(), False),
        ("not_configured", None, True),
        ("publish_failed", FakePublisher(PublishFailedError("ConnectError: refused")), True),
    ],
)
def test_each_fallback_runs_once_and_is_counted_once_with_its_reason(
    capsys: pytest.CaptureFixture[str],
    reason: FallbackReason,
    publisher: FakePublisher | None,
    enabled: bool,
) -> None:
    fallback = Fallback()

    result = dispatch(MESSAGE, publisher=publisher, fallback=fallback, enabled=enabled)

    assert result.queued is False
    assert result.message_id is None
    assert result.fallback == reason
    assert fallback.runs == 1
    [metric] = emf_records(capsys.readouterr().out)
    [definition] = metric["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "Longhaul"
    assert definition["Metrics"] == [{"Name": "DispatchFallback", "Unit": "Count"}]
    # Powertools adds a `service` dimension too when POWERTOOLS_SERVICE_NAME is set.
    assert any("reason" in dimensions for dimensions in definition["Dimensions"])
    assert metric["reason"] == reason
    assert metric["DispatchFallback"] == [1.0]


def test_a_disabled_dispatch_never_asks_the_publisher() -> None:
    publisher = FakePublisher()
    dispatch(MESSAGE, publisher=publisher, fallback=Fallback(), enabled=False)
    assert publisher.published == []


def test_an_unexpected_publisher_error_is_not_hidden_by_the_fallback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fallback = Fallback()
    with pytest.raises(TypeError, match="a bug"):
        dispatch(MESSAGE, publisher=FakePublisher(TypeError("a bug")), fallback=fallback)
    assert fallback.runs == 0
    assert emf_records(capsys.readouterr().out) == []
