"""Authentication, input validation, signing keys and the event log endpoints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from qstash import QStash, Receiver
from qstash.log import LogState

from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
from tests.integration.devstack.qstash_fixtures import (
    QStashHarness,
    RecordingReceiver,
    api_error,
    single_id,
    wait_until,
)


def test_missing_or_wrong_token_is_401(qstash: QStashHarness) -> None:
    intruder = QStash("not-the-token", base_url=qstash.url, retry=False)

    status, error = api_error(lambda: intruder.queue.list())
    assert status == 401
    assert "error" in error
    status, _ = api_error(lambda: intruder.message.publish_json(url="http://x.test/", body=1))
    assert status == 401
    assert qstash.client.queue.list() == []  # the right token still works


def test_token_may_come_as_a_query_parameter_and_stays_out_of_the_destination(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    def publish_with_query_token(token: str) -> object:
        return qstash.client.http.request(
            path=f"/v2/publish/{receiver.url('/query-auth')}",
            method="POST",
            params={"a": "1", "qstash_token": token},
            body="x",
            token="Basic not-a-bearer-token",  # replaces the SDK's Authorization header
        )

    publish_with_query_token(DEV_TOKEN)

    (delivery,) = receiver.wait_for("/query-auth", 1)
    assert delivery.url == receiver.url("/query-auth?a=1")
    assert api_error(lambda: publish_with_query_token("wrong"))[0] == 401


def test_signing_keys_are_the_official_dev_keys(qstash: QStashHarness) -> None:
    keys = qstash.client.signing_key.get()

    assert (keys.current, keys.next) == (DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)


def test_after_rotation_deliveries_are_signed_with_the_former_next_key(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    rotated = qstash.client.signing_key.rotate()
    qstash.client.message.publish_json(url=receiver.url("/rotated"), body=1)

    assert rotated.current == DEV_NEXT_SIGNING_KEY
    assert rotated.next not in (DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)
    (delivery,) = receiver.wait_for("/rotated", 1)
    # The receiver knows the dev keys only; it accepts this through its `next` key.
    assert delivery.signature_error is None
    Receiver(DEV_NEXT_SIGNING_KEY, rotated.next).verify(
        signature=delivery.headers["Upstash-Signature"], body="1", url=delivery.url
    )


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"Upstash-Delay": "soon"}, "Upstash-Delay"),
        ({"Upstash-Retries": "-1"}, "Upstash-Retries"),
        ({"Upstash-Retries": "three"}, "Upstash-Retries"),
        ({"Upstash-Not-Before": "tomorrow"}, "Upstash-Not-Before"),
        ({"Upstash-Timeout": "1x"}, "Upstash-Timeout"),
        ({"Upstash-Method": "BREW"}, "Upstash-Method"),
        ({"Upstash-Retry-Delay": "__import__('os').system('true')"}, "retry delay"),
        ({"Upstash-Retry-Delay": "retried.__class__"}, "retry delay"),
        ({"Upstash-Callback": "ftp://x.test/"}, "Upstash-Callback"),
        ({"Upstash-Content-Based-Deduplication": "maybe"}, "Deduplication"),
        ({"Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "speed=9"}, "Flow"),
    ],
)
def test_unparseable_headers_are_400(
    qstash: QStashHarness, headers: dict[str, str], fragment: str
) -> None:
    status, error = api_error(
        lambda: qstash.raw("POST", "/v2/publish/http://x.test/hook", headers=headers, body="{}")
    )

    assert status == 400
    assert fragment in error["error"]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda q: q.raw("POST", "/v2/batch", body="[{not json"), "JSON"),
        (lambda q: q.raw("POST", "/v2/batch", body='{"destination": "x"}'), "body"),
        (lambda q: q.raw("POST", "/v2/batch", body='[{"body": "no destination"}]'), "destination"),
        (lambda q: q.raw("POST", "/v2/queues", body='{"queueName": "q", "parallelism": 0}'), "par"),
        (lambda q: q.raw("POST", "/v2/queues", body='{"queueName": "bad name!"}'), "queue name"),
        (
            lambda q: q.client.schedule.create(destination="http://x.test/", cron="61 * * * *"),
            "cron",
        ),
        (
            lambda q: q.client.schedule.create(destination="http://x.test/", cron="* * * * * *"),
            "cron",
        ),
        (lambda q: q.client.message.publish(url="mailto://x", body="1"), "destination"),
        (lambda q: q.client.message.enqueue(queue="a b", url="http://x.test/", body="1"), "queue"),
        (lambda q: q.client.url_group.upsert_endpoints("g", [{"url": "nope"}]), "url"),
        (
            lambda q: q.client.message.batch_json(
                [{"url": "http://x.test/", "body": 1, "headers": {"X-Evil": "a\r\nInjected: 1"}}]
            ),
            "header",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_qstash_error_body(
    qstash: QStashHarness, call: Callable[[QStashHarness], object], fragment: str
) -> None:
    status, error = api_error(lambda: call(qstash))

    assert status == 400
    assert set(error) == {"error"}
    assert fragment in error["error"]


def test_a_batch_with_one_bad_item_accepts_none(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    status, _ = api_error(
        lambda: qstash.client.message.batch_json(
            [
                {"url": receiver.url("/ok"), "body": 1},
                {"url": receiver.url("/ok"), "body": 2, "delay": "whenever"},
            ]
        )
    )

    assert status == 400
    assert qstash.client.log.list().logs == []


def test_unknown_routes_answer_with_qstash_shaped_errors(qstash: QStashHarness) -> None:
    status, error = api_error(lambda: qstash.raw("GET", "/v2/nothing-here"))

    assert status == 404
    assert "error" in error


def test_events_and_logs_list_the_same_history(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    message_id = single_id(qstash.client.message.publish_json(url=receiver.url("/hist"), body=1))
    receiver.wait_for("/hist", 1)

    sdk_states = wait_until(
        lambda: (
            states
            if (
                states := [
                    log.state
                    for log in qstash.client.log.list(filter={"message_id": message_id}).logs
                ]
            )[0]
            is LogState.DELIVERED
            else None
        ),
        what="the DELIVERED event",
    )
    spec = qstash.raw("GET", "/v2/logs", params={"messageId": message_id})
    assert sdk_states == [LogState.DELIVERED, LogState.ACTIVE, LogState.CREATED]
    assert [entry["state"] for entry in spec["logs"]] == ["DELIVERED", "ACTIVE", "CREATED"]
    assert spec["logs"][0]["responseStatus"] == 200


def test_log_pagination_uses_a_cursor(qstash: QStashHarness, receiver: RecordingReceiver) -> None:
    for n in range(3):
        qstash.client.message.publish_json(url=receiver.url("/page"), body=n, delay="1h")

    first = qstash.client.log.list(count=2)
    second = qstash.client.log.list(count=2, cursor=first.cursor)
    assert first.cursor is not None
    assert second.cursor is None
    assert len(first.logs) == 2
    assert len(second.logs) == 1
    assert first.logs[0].time >= second.logs[0].time
