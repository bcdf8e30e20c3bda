"""What one scenario generation costs in remote calls, next to a naive implementation.

Runs the whole local stack in this process (QStash server, DynamoDB, the worker behind its
Function URL, the app), generates one scenario of each type through `POST /api/generate`, and
counts the real requests: DynamoDB calls through botocore's event hooks on the app's client, and
QStash messages through the QStash server's event log. In the same run a naive writer stores the
same events the way the seed did (one PutItem per event, one UpdateItem per progress tick: every
stage change and every 100 stored events), and its calls are counted the same way.

Run: python -m bench.scenario_cost [--types bakery hotel tech_startup] [--seed N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.verdict import report_targets
from chalicelib.dynamodb import dynamodb_client
from chalicelib.scenarios.generation import (
    generate_month_events,
    generate_profile,
    generate_trends,
)
from chalicelib.scenarios.models import BusinessEvent, ScenarioType
from chalicelib.scenarios.plan import RUN_STAGES
from chalicelib.settings import get_settings
from devstack.stack import LocalStack, StackOptions

TARGET_RATIO = 20
NAIVE_TICK_EVENTS = 100


class CallCounter:
    """Counts the API calls a botocore client makes, by operation."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        """All calls so far."""
        return sum(self.calls.values())


def _qstash_messages_to(url: str) -> int:
    """Messages created for `url`, from the QStash server's event log."""
    from qstash.log import LogFilter, LogState

    from chalicelib.queue.qstash_client import qstash_client

    client = qstash_client(get_settings())
    # The SDK prints every log page it reads; keep the benchmark's output readable.
    with contextlib.redirect_stdout(io.StringIO()):
        page = client.log.list(filter=LogFilter(url=url, state=LogState.CREATED), count=1000)
    return len(page.logs)


def _generate(
    app_url: str, scenario_type: str, seed: int
) -> tuple[str, dict[str, Any], float, int]:
    """Start a scenario and poll it to the end: its id, last status, seconds, and polls made."""
    started = time.perf_counter()
    polls = 0
    with httpx.Client(timeout=30) as http:
        scenario_id = http.post(
            f"{app_url}/api/generate", json={"scenarioType": scenario_type, "seed": seed}
        ).json()["scenarioId"]
        while True:
            status = http.get(f"{app_url}/api/status/{scenario_id}").json()
            polls += 1
            if status["status"] in ("completed", "failed"):
                return scenario_id, status, time.perf_counter() - started, polls
            time.sleep(0.05)


def _naive_store(
    client: Any, table: str, scenario_id: str, events: Sequence[BusinessEvent]
) -> float:
    """The seed's way: every event its own PutItem, progress after every stage and 100 events."""
    started = time.perf_counter()
    key = {"pk": {"S": f"NAIVE#{scenario_id}"}, "sk": {"S": "META"}}
    for stage in RUN_STAGES:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET progress = :p",
            ExpressionAttributeValues={":p": {"N": str(stage.start)}},
        )
    for index, event in enumerate(events):
        client.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"NAIVE#{scenario_id}"},
                "sk": {"S": f"EVENT#{event.event_id}"},
                "amountCents": {"N": str(event.amount_cents)},
                "description": {"S": event.description},
            },
        )
        if index % NAIVE_TICK_EVENTS == 0:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET progress = :p",
                ExpressionAttributeValues={":p": {"N": str(85 + 5 * index // len(events))}},
            )
    return time.perf_counter() - started


def _events(scenario_type: ScenarioType, seed: int) -> list[BusinessEvent]:
    profile = generate_profile(scenario_type, seed)
    trends = generate_trends(profile, seed)
    return [e for m in range(1, 13) for e in generate_month_events(profile, trends, m, seed)]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the cost table; exit non-zero if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--types", nargs="+", default=["bakery", "hotel", "tech_startup"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    options = StackOptions.on_free_ports(Path(tempfile.mkdtemp()))
    stack = LocalStack(options).start()
    missed = []
    try:
        settings = get_settings()
        client = dynamodb_client(settings)
        counter = CallCounter(client)
        app_url, worker_url = settings.public_base_url or "", settings.worker_url or ""
        header = (
            f"{'type':<13}{'events':>8}{'ddb calls':>11}{'budget':>8}{'naive':>8}"
            f"{'fewer':>8}{'qstash':>8}{'wall s':>8}{'naive s':>9}"
        )
        print(header)
        for scenario_type in args.types:
            before_calls, before_messages = counter.total(), _qstash_messages_to(worker_url)
            scenario_id, status, wall, polls = _generate(app_url, scenario_type, args.seed)
            # Each status poll of the benchmark itself is one GetItem, not the generation's cost.
            ours = counter.total() - before_calls - polls
            messages = _qstash_messages_to(worker_url) - before_messages
            events = _events(scenario_type, args.seed)
            naive_before = counter.total()
            naive_wall = _naive_store(client, settings.longhaul_table, scenario_id, events)
            naive = counter.total() - naive_before
            budget = math.ceil(len(events) / 25) + 2 * len(RUN_STAGES) + 5
            ratio = naive / ours
            print(
                f"{scenario_type:<13}{status['eventsCount']:>8}{ours:>11}{budget:>8}{naive:>8}"
                f"{ratio:>7.1f}x{messages:>8}{wall:>8.1f}{naive_wall:>9.1f}"
            )
            if status["status"] != "completed" or ours > budget or ratio < TARGET_RATIO:
                missed.append(scenario_type)
            if messages != 1:
                missed.append(f"{scenario_type} (qstash messages)")
    finally:
        stack.stop()
    print(f"targets: ddb calls <= budget, >= {TARGET_RATIO}x fewer than naive, 1 QStash message")
    return report_targets(missed)


if __name__ == "__main__":
    sys.exit(main())
