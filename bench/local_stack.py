"""How much the local QStash server adds to a delivery.

Publishes N small messages with the official SDK to the local server, which delivers them to a
local receiver that verifies every signature with `qstash.Receiver`. In the same run the same
body is POSTed N times straight to the same receiver (signed the same way, so the receiver does
the same work). Prints publish latency, delivery throughput and the ratio of the per-message
cost of the delivery path (first publish to last verified delivery, divided by N) to the
per-message cost of the direct POST. Exits non-zero if a message is lost or a signature fails.

Run: python -m bench.local_stack [--messages N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx
from aiohttp import web
from qstash import QStash, Receiver
from qstash.errors import SignatureError

from devstack.qstash import (
    DEV_CURRENT_SIGNING_KEY,
    DEV_NEXT_SIGNING_KEY,
    DEV_TOKEN,
    QStashServerConfig,
    create_app,
)
from devstack.qstash.signing import sign_delivery
from devstack.service import BackgroundServer

TARGET_RATIO = 3.0
DELIVERY_TIMEOUT_SECONDS = 30.0
WARM_UP_MESSAGES = 20


@dataclass
class VerifyingReceiver:
    """Counts requests per path, verifying each signature against the receiver's own URL."""

    base_url: str = ""
    verifier: Receiver = field(
        default_factory=lambda: Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: dict[str, list[int]] = field(default_factory=dict)
    invalid: int = 0
    last_arrival: float = 0.0

    def app(self) -> web.Application:
        """An aiohttp application answering 200 to every verified POST."""
        application = web.Application()
        application.router.add_post("/{path}", self._handle)
        return application

    def count(self, path: str) -> int:
        """Requests received on `path` so far."""
        with self.lock:
            return len(self.seen.get(path, []))

    async def _handle(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode()
        try:
            self.verifier.verify(
                signature=request.headers.get("Upstash-Signature", ""),
                body=body,
                url=f"{self.base_url}{request.raw_path}",
            )
        except SignatureError:
            with self.lock:
                self.invalid += 1
            return web.Response(status=401)
        with self.lock:
            self.seen.setdefault(request.match_info["path"], []).append(json.loads(body)["n"])
            self.last_arrival = time.perf_counter()
        return web.Response(text="ok")


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    messages: int
    publish_latencies: list[float]
    delivery_seconds: float
    direct_seconds: float
    lost: int
    duplicates: int
    invalid: int

    @property
    def ratio(self) -> float:
        """Per-message cost of the delivery path over that of a direct POST."""
        return self.delivery_seconds / self.direct_seconds

    def report(self) -> str:
        """The figures as aligned, comparable lines."""
        per_delivery = self.delivery_seconds / self.messages * 1000
        per_direct = self.direct_seconds / self.messages * 1000
        quantiles = statistics.quantiles(self.publish_latencies, n=100, method="inclusive")
        verdict = "met" if self.ratio <= TARGET_RATIO else "MISSED"
        return "\n".join(
            [
                f"messages                       {self.messages}",
                f"publish latency p50            {quantiles[49] * 1000:8.3f} ms",
                f"publish latency p99            {quantiles[98] * 1000:8.3f} ms",
                f"deliveries per second          {self.messages / self.delivery_seconds:8.0f}",
                f"delivery path per message      {per_delivery:8.3f} ms  (publish → verified)",
                f"direct POST per message        {per_direct:8.3f} ms",
                f"ratio delivery / direct        {self.ratio:8.2f}     (target ≤ {TARGET_RATIO:g}:"
                f" {verdict})",
                f"lost messages                  {self.lost:8d}",
                f"duplicate deliveries           {self.duplicates:8d}",
                f"invalid signatures             {self.invalid:8d}",
            ]
        )


def _direct_posts(receiver: VerifyingReceiver, count: int, path: str) -> float:
    """Seconds to POST `count` signed bodies straight to the receiver, one after another."""
    url = f"{receiver.base_url}/{path}"
    with httpx.Client() as client:
        start = time.perf_counter()
        for n in range(count):
            body = json.dumps({"n": n}).encode()
            signature = sign_delivery(
                key=DEV_CURRENT_SIGNING_KEY, url=url, body=body, now=time.time()
            )
            client.post(
                url,
                content=body,
                headers={"Content-Type": "application/json", "Upstash-Signature": signature},
            ).raise_for_status()
        return time.perf_counter() - start


def _publish_all(
    client: QStash, receiver: VerifyingReceiver, count: int, path: str
) -> tuple[float, list[float]]:
    """Publish `count` messages; return the start time and each publish's latency."""
    url = f"{receiver.base_url}/{path}"
    latencies = []
    start = time.perf_counter()
    for n in range(count):
        before = time.perf_counter()
        client.message.publish_json(url=url, body={"n": n})
        latencies.append(time.perf_counter() - before)
    return start, latencies


def _await_deliveries(receiver: VerifyingReceiver, path: str, count: int) -> None:
    deadline = time.perf_counter() + DELIVERY_TIMEOUT_SECONDS
    while receiver.count(path) < count and time.perf_counter() < deadline:
        time.sleep(0.001)


def run(messages: int) -> Figures:
    """Start a receiver and a local QStash server, measure both paths, stop everything."""
    receiver = VerifyingReceiver()
    with (
        BackgroundServer(receiver.app) as receiver_server,
        BackgroundServer(lambda: create_app(QStashServerConfig())) as qstash_server,
    ):
        receiver.base_url = receiver_server.url
        client = QStash(DEV_TOKEN, base_url=qstash_server.url, retry=False)
        # Warm both paths up (connections, first-call imports) before measuring.
        _direct_posts(receiver, WARM_UP_MESSAGES, "warm-direct")
        _publish_all(client, receiver, WARM_UP_MESSAGES, "warm-delivery")
        _await_deliveries(receiver, "warm-delivery", WARM_UP_MESSAGES)

        direct_seconds = _direct_posts(receiver, messages, "direct")
        start, latencies = _publish_all(client, receiver, messages, "delivery")
        _await_deliveries(receiver, "delivery", messages)
        with receiver.lock:
            delivered = list(receiver.seen.get("delivery", []))
            delivery_seconds = receiver.last_arrival - start
            invalid = receiver.invalid
    return Figures(
        messages=messages,
        publish_latencies=latencies,
        delivery_seconds=delivery_seconds,
        direct_seconds=direct_seconds,
        lost=messages - len(set(delivered)),
        duplicates=len(delivered) - len(set(delivered)),
        invalid=invalid,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; 1 if anything was lost or badly signed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000, help="messages to publish")
    args = parser.parse_args(argv)
    figures = run(args.messages)
    print(figures.report())
    return 1 if figures.lost or figures.invalid else 0


if __name__ == "__main__":
    sys.exit(main())
