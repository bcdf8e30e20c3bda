"""QStashPublisher: messages become the SDK's keyword arguments; SDK failures one error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
from qstash import QStash
from qstash.errors import QStashError, RateLimitExceededError

from chalicelib.queue.messages import OutgoingMessage, PublishReceipt
from chalicelib.queue.publisher import PublishFailedError, QStashPublisher

URL = "https://worker.example/run"


@dataclass
class SdkResponse:
    message_id: str
    deduplicated: bool = False


@dataclass
class FakeMessageApi:
    """The `client.message` part of the SDK: records calls, answers or raises `error`."""

    error: Exception | None = None
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def publish_json(self, **arguments: Any) -> SdkResponse:
        self.calls.append(("publish_json", arguments))
        if self.error is not None:
            raise self.error
        return SdkResponse(message_id="msg_1", deduplicated=True)

    def batch_json(self, messages: list[dict[str, Any]]) -> list[SdkResponse]:
        self.calls.append(("batch_json", messages))
        if self.error is not None:
            raise self.error
        return [SdkResponse(message_id=f"msg_{index}") for index in range(len(messages))]


@dataclass
class FakeClient:
    message: FakeMessageApi


def publisher(error: Exception | None = None) -> tuple[QStashPublisher, FakeMessageApi]:
    """A publisher over a fake SDK client, and that client's message API."""
    api = FakeMessageApi(error)
    return QStashPublisher(cast(QStash, FakeClient(api))), api


def message(**fields: Any) -> OutgoingMessage:
    return OutgoingMessage.model_validate(
        {"url": URL, "body": {"a": 1}, "deduplication_id": "dedup-1", **fields}
    )


def test_a_minimal_message_sends_only_url_body_and_deduplication_id() -> None:
    sender, api = publisher()
    receipt = sender.publish(message())
    assert receipt == PublishReceipt(message_id="msg_1", deduplicated=True)
    assert api.calls == [
        ("publish_json", {"url": URL, "body": {"a": 1}, "deduplication_id": "dedup-1"})
    ]


def test_every_option_is_passed_in_the_sdk_spelling() -> None:
    sender, api = publisher()
    sender.publish(message(failure_callback="https://app/cb", retries=0, delay_seconds=90))
    [(_, arguments)] = api.calls
    assert arguments == {
        "url": URL,
        "body": {"a": 1},
        "deduplication_id": "dedup-1",
        "failure_callback": "https://app/cb",
        "retries": 0,
        "delay": "90s",
    }


def test_a_zero_delay_is_not_sent() -> None:
    sender, api = publisher()
    sender.publish(message(delay_seconds=0))
    assert "delay" not in api.calls[0][1]


@pytest.mark.parametrize(
    "error",
    [
        QStashError("401 unauthorized"),
        RateLimitExceededError("10", "0", "1"),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
    ],
    ids=type,
)
def test_every_sdk_failure_becomes_publish_failed(error: Exception) -> None:
    sender, _ = publisher(error)
    with pytest.raises(PublishFailedError, match=type(error).__name__) as raised:
        sender.publish(message())
    assert raised.value.__cause__ is error


@pytest.mark.parametrize(
    "fields",
    [{"deduplication_id": ""}, {"retries": 11}, {"retries": -1}, {"delay_seconds": -1}],
)
def test_outgoing_messages_refuse_out_of_range_options(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        message(**fields)


@pytest.mark.parametrize(
    "error", [KeyError("messageId"), ValueError("Expecting value")], ids=["no-id", "not-json"]
)
def test_an_answer_the_sdk_cannot_read_is_a_failed_publish(error: Exception) -> None:
    # A 2xx whose body has no messageId, or is not JSON: whether QStash took it is unknown.
    sender, _ = publisher(error)
    with pytest.raises(PublishFailedError):
        sender.publish(message())


def test_a_batch_is_one_sdk_call_with_receipts_in_order() -> None:
    sender, api = publisher()
    receipts = sender.publish_batch([message(), message(deduplication_id="dedup-2")])

    assert [name for name, _ in api.calls] == ["batch_json"]
    sent = api.calls[0][1]
    assert [item["deduplication_id"] for item in sent] == ["dedup-1", "dedup-2"]
    assert [receipt.message_id for receipt in receipts] == ["msg_0", "msg_1"]


def test_an_empty_batch_calls_nothing() -> None:
    sender, api = publisher()
    assert sender.publish_batch([]) == []
    assert api.calls == []


def test_a_refused_batch_is_a_failed_publish() -> None:
    sender, _ = publisher(QStashError("quota exceeded"))
    with pytest.raises(PublishFailedError, match="quota exceeded"):
        sender.publish_batch([message()])
