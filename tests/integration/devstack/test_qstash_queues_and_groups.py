"""Named queues (FIFO, parallelism, pause) and URL groups (fan-out)."""

from __future__ import annotations

import itertools
import json
import time

from qstash.message import EnqueueResponse, PublishUrlGroupResponse

from tests.integration.devstack.qstash_fixtures import (
    QStashHarness,
    RecordingReceiver,
    Reply,
    api_error,
)


def test_queue_with_parallelism_one_delivers_in_order_one_at_a_time(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/fifo", Reply(hold=0.01))
    for n in range(8):
        qstash.client.message.enqueue_json(queue="orders", url=receiver.url("/fifo"), body=n)

    deliveries = receiver.wait_for("/fifo", 8)
    assert [json.loads(d.body) for d in deliveries] == list(range(8))
    assert receiver.max_in_flight == 1
    assert all(a.finished <= b.started for a, b in itertools.pairwise(deliveries))


def test_a_failing_head_blocks_its_fifo_queue_until_it_is_retried(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    receiver.script("/strict", Reply(status=500), Reply())
    for n in range(3):
        qstash.client.message.enqueue_json(queue="strict", url=receiver.url("/strict"), body=n)

    deliveries = receiver.wait_for("/strict", 4)
    assert [json.loads(d.body) for d in deliveries] == [0, 0, 1, 2]


def test_queue_parallelism_bounds_concurrent_deliveries(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    qstash.client.queue.upsert("wide", parallelism=3)
    receiver.script("/parallel", Reply(hold=0.1))
    for n in range(9):
        qstash.client.message.enqueue_json(queue="wide", url=receiver.url("/parallel"), body=n)

    receiver.wait_for("/parallel", 9)
    assert receiver.max_in_flight == 3


def test_lowering_parallelism_retires_workers(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    qstash.client.queue.upsert("narrowed", parallelism=3)
    qstash.client.queue.upsert("narrowed", parallelism=1)
    receiver.script("/narrowed", Reply(hold=0.03))
    for n in range(5):
        qstash.client.message.enqueue_json(queue="narrowed", url=receiver.url("/narrowed"), body=n)

    deliveries = receiver.wait_for("/narrowed", 5)
    assert [json.loads(d.body) for d in deliveries] == list(range(5))
    assert receiver.max_in_flight == 1


def test_paused_queue_holds_messages_until_resumed(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    qstash.client.queue.upsert("held", paused=True)
    enqueued = qstash.client.message.enqueue_json(queue="held", url=receiver.url("/held"), body=1)
    assert isinstance(enqueued, EnqueueResponse)

    time.sleep(0.05)  # enough for a delivery to happen if the pause were ignored
    assert receiver.deliveries("/held") == []
    queue = qstash.client.queue.get("held")
    assert queue.paused
    assert queue.lag == 1
    assert queue.parallelism == 1

    qstash.client.queue.resume("held")
    (delivery,) = receiver.wait_for("/held", 1)
    assert delivery.message_id == enqueued.message_id
    qstash.client.queue.pause("held")
    assert qstash.client.queue.get("held").paused


def test_queue_list_and_delete(qstash: QStashHarness) -> None:
    qstash.client.queue.upsert("first", parallelism=2)
    qstash.client.queue.upsert("second")

    assert {q.name: q.parallelism for q in qstash.client.queue.list()} == {"first": 2, "second": 1}
    qstash.client.queue.delete("first")
    assert [q.name for q in qstash.client.queue.list()] == ["second"]
    assert api_error(lambda: qstash.client.queue.get("first"))[0] == 404


def test_url_group_fans_out_to_every_endpoint(
    qstash: QStashHarness, receiver: RecordingReceiver
) -> None:
    qstash.client.url_group.upsert_endpoints(
        "audit", [{"url": receiver.url("/a"), "name": "a"}, {"url": receiver.url("/b")}]
    )
    results = qstash.client.message.publish_json(url_group="audit", body={"event": "x"})

    assert isinstance(results, list)
    assert len(results) == 2
    assert all(isinstance(r, PublishUrlGroupResponse) for r in results)
    assert {r.url for r in results} == {receiver.url("/a"), receiver.url("/b")}
    for path in ("/a", "/b"):
        (delivery,) = receiver.wait_for(path, 1)
        assert delivery.headers["Upstash-Topic-Name"] == "audit"
        assert json.loads(delivery.body) == {"event": "x"}
        assert delivery.message_id == next(r.message_id for r in results if r.url.endswith(path))


def test_url_group_management(qstash: QStashHarness, receiver: RecordingReceiver) -> None:
    qstash.client.url_group.upsert_endpoints("g", [{"url": receiver.url("/1"), "name": "one"}])
    qstash.client.url_group.upsert_endpoints("g", [{"url": receiver.url("/2")}])

    group = qstash.client.url_group.get("g")
    assert [(e.url, e.name) for e in group.endpoints] == [
        (receiver.url("/1"), "one"),
        (receiver.url("/2"), None),
    ]
    qstash.client.url_group.remove_endpoints("g", [{"name": "one"}])
    assert [e.url for e in qstash.client.url_group.get("g").endpoints] == [receiver.url("/2")]
    assert [g.name for g in qstash.client.url_group.list()] == ["g"]
    qstash.client.url_group.delete("g")
    assert qstash.client.url_group.list() == []
    status, error = api_error(lambda: qstash.client.message.publish_json(url_group="g", body=1))
    assert status == 404
    assert "not found" in error["error"]
