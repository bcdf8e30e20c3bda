"""Cron schedules that fire (one minute is 60 ms at the test time scale), pause and resume."""

from __future__ import annotations

import json
import time

from qstash.log import LogState

from tests.integration.devstack.qstash_fixtures import (
    QStashHarness,
    RecordingReceiver,
    api_error,
    wait_until,
)


def _all_delivered(qstash: QStashHarness, schedule_id: str) -> bool:
    """Whether every message the schedule published so far has been delivered."""
    logs = qstash.client.log.list(filter={"schedule_id": schedule_id}, count=1000).logs
    created = {log.message_id for log in logs if log.state is LogState.CREATED}
    return created == {log.message_id for log in logs if log.state is LogState.DELIVERED}


def test_schedule_fires_repeatedly_and_can_be_paused_resumed_and_deleted(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    schedule_id = qstash.client.schedule.create_json(
        destination=receiver.url("/tick"),
        cron="* * * * *",
        body={"report": "daily"},
        headers={"X-Source": "cron"},
    )

    deliveries = receiver.wait_for("/tick", 2)
    assert {d.headers["Upstash-Schedule-Id"] for d in deliveries} == {schedule_id}
    assert json.loads(deliveries[0].body) == {"report": "daily"}
    assert deliveries[0].headers["X-Source"] == "cron"
    assert deliveries[0].message_id != deliveries[1].message_id
    schedule = qstash.client.schedule.get(schedule_id)
    assert schedule.cron == "* * * * *"
    assert not schedule.paused
    assert schedule.last_schedule_time is not None
    assert schedule.next_schedule_time is not None

    qstash.client.schedule.pause(schedule_id)
    assert qstash.client.schedule.get(schedule_id).paused
    wait_until(lambda: _all_delivered(qstash, schedule_id), what="fired messages to settle")
    paused_count = len(receiver.deliveries("/tick"))
    time.sleep(0.3)  # five minutes of cron time
    assert len(receiver.deliveries("/tick")) == paused_count

    qstash.client.schedule.resume(schedule_id)
    receiver.wait_for("/tick", paused_count + 1)

    qstash.client.schedule.delete(schedule_id)
    assert qstash.client.schedule.list() == []
    assert api_error(lambda: qstash.client.schedule.get(schedule_id))[0] == 404


def test_schedule_with_id_queue_and_spec_style_pause(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    schedule_id = qstash.client.schedule.create(
        destination=receiver.url("/queued-tick"),
        cron="*/5 * * * *",
        body="hello",
        schedule_id="my-report",
        queue="reports",
        retries=1,
        delay=30,
    )

    assert schedule_id == "my-report"
    (listed,) = qstash.client.schedule.list()
    assert (listed.queue, listed.retries, listed.delay, listed.body) == ("reports", 1, 30, "hello")
    (delivery,) = receiver.wait_for("/queued-tick", 1, timeout=5)
    assert delivery.body == b"hello"
    assert delivery.headers["Upstash-Schedule-Id"] == "my-report"
    qstash.raw("POST", "/v2/schedules/my-report/pause", parse_response=False)
    assert qstash.client.schedule.get("my-report").paused
