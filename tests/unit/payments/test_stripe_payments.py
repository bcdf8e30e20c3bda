"""`StripePayments` through the official SDK, against a small Stripe stand-in on loopback:
the calls it makes, the idempotency key on each write, and how Stripe's errors are sorted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from chalicelib.payments.gateway import (
    PaymentRejectedError,
    PaymentsNotConfiguredError,
    PaymentUnavailableError,
    payments,
)
from chalicelib.payments.recording_payments import RecordingPayments
from chalicelib.payments.stripe_payments import StripePayments
from chalicelib.settings import Settings

KEY = "escrow-abc-capture"


class StripeStandIn(ThreadingHTTPServer):
    """Answers the few Stripe endpoints the payments use, from `intents` and `refunds`."""

    intents: dict[str, dict[str, Any]]
    refunds: list[dict[str, Any]]
    requests: list[tuple[str, str, dict[str, list[str]], str | None]]
    fail_with: tuple[int, dict[str, Any]] | None


class _Handler(BaseHTTPRequestHandler):
    server: StripeStandIn

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode()) if length else parse_qs(url.query)
        server = self.server
        server.requests.append((method, url.path, form, self.headers.get("Idempotency-Key")))
        if server.fail_with is not None and method == "POST":
            self._answer(*server.fail_with)
            return
        parts = url.path.strip("/").split("/")  # v1, resource, id, action
        if parts[1] == "payment_intents":
            intent = server.intents[parts[2]]
            if parts[3:] == ["capture"]:
                intent["status"] = "succeeded"
            elif parts[3:] == ["cancel"]:
                intent["status"] = "canceled"
            self._answer(200, intent)
        elif method == "GET":
            self._answer(
                200, {"object": "list", "data": server.refunds, "has_more": False, "url": url.path}
            )
        else:
            refund = {
                "id": f"re_{len(server.refunds) + 1}",
                "object": "refund",
                "amount": int(form["amount"][0]),
                "metadata": {
                    "longhaul_idempotency_key": form["metadata[longhaul_idempotency_key]"][0]
                },
            }
            server.refunds.append(refund)
            self._answer(200, refund)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def stripe_api() -> Iterator[StripeStandIn]:
    server = StripeStandIn(("127.0.0.1", 0), _Handler)
    server.intents, server.refunds, server.requests, server.fail_with = {}, [], [], None
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def intent(status: str, currency: str = "usd") -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "status": status, "currency": currency}


def settings(**values: object) -> Settings:
    return Settings.model_validate({"LONGHAUL_STAGE": "dev", **values})


def stripe(server: StripeStandIn) -> StripePayments:
    return StripePayments(
        settings(STRIPE_API_KEY="sk_test_123", BACKEND_TIMEOUT_SECONDS="2"),
        api_base=f"http://127.0.0.1:{server.server_address[1]}",
    )


def writes(server: StripeStandIn) -> list[tuple[str, str | None]]:
    return [(path, key) for method, path, _, key in server.requests if method == "POST"]


def test_capture_captures_the_held_amount_under_the_idempotency_key(
    stripe_api: StripeStandIn,
) -> None:
    stripe_api.intents["pi_1"] = intent("requires_capture")

    receipt = stripe(stripe_api).capture("abc", "pi_1", 4_999, "USD", KEY)

    assert writes(stripe_api) == [("/v1/payment_intents/pi_1/capture", KEY)]
    (_, _, form, _) = stripe_api.requests[-1]
    assert form["amount_to_capture"] == ["4999"]
    assert (receipt.provider, receipt.reference, receipt.replayed) == ("stripe", "pi_1", False)


def test_a_capture_already_made_is_not_made_again(stripe_api: StripeStandIn) -> None:
    stripe_api.intents["pi_1"] = intent("succeeded")

    receipt = stripe(stripe_api).capture("abc", "pi_1", 4_999, "USD", KEY)

    assert writes(stripe_api) == []
    assert receipt.replayed


def test_refunding_a_held_payment_cancels_its_authorisation(stripe_api: StripeStandIn) -> None:
    stripe_api.intents["pi_1"] = intent("requires_capture")

    receipt = stripe(stripe_api).refund("abc", "pi_1", 4_999, "USD", "escrow-abc-refund")

    assert writes(stripe_api) == [("/v1/payment_intents/pi_1/cancel", "escrow-abc-refund")]
    assert receipt.operation == "refund"


def test_refunding_a_captured_payment_refunds_it_once(stripe_api: StripeStandIn) -> None:
    stripe_api.intents["pi_1"] = intent("succeeded")
    payments_ = stripe(stripe_api)

    first = payments_.refund("abc", "pi_1", 4_999, "USD", "escrow-abc-refund")
    again = payments_.refund("abc", "pi_1", 4_999, "USD", "escrow-abc-refund")

    assert writes(stripe_api) == [("/v1/refunds", "escrow-abc-refund")]
    assert (first.reference, first.replayed) == ("re_1", False)
    assert (again.reference, again.replayed) == ("re_1", True)


def test_a_payment_in_another_currency_is_refused(stripe_api: StripeStandIn) -> None:
    stripe_api.intents["pi_1"] = intent("requires_capture", currency="eur")

    with pytest.raises(PaymentRejectedError, match="EUR"):
        stripe(stripe_api).capture("abc", "pi_1", 4_999, "USD", KEY)
    assert writes(stripe_api) == []


def test_a_canceled_payment_cannot_be_captured(stripe_api: StripeStandIn) -> None:
    stripe_api.intents["pi_1"] = intent("canceled")

    with pytest.raises(PaymentRejectedError, match="canceled"):
        stripe(stripe_api).capture("abc", "pi_1", 4_999, "USD", KEY)


def _error(kind: str, message: str = "no") -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, _error("invalid_request_error", "amount too large"), PaymentRejectedError),
        (402, _error("card_error", "declined"), PaymentRejectedError),
        (401, _error("invalid_request_error", "bad key"), PaymentsNotConfiguredError),
        (429, _error("invalid_request_error", "slow down"), PaymentUnavailableError),
        (500, _error("api_error", "oops"), PaymentUnavailableError),
    ],
)
def test_stripe_errors_are_sorted_into_refusals_and_outages(
    stripe_api: StripeStandIn, status: int, body: dict[str, Any], expected: type[Exception]
) -> None:
    stripe_api.intents["pi_1"] = intent("requires_capture")
    stripe_api.fail_with = (status, body)

    with pytest.raises(expected):
        stripe(stripe_api).capture("abc", "pi_1", 4_999, "USD", KEY)


def test_an_unreachable_stripe_is_an_outage(stripe_api: StripeStandIn) -> None:
    payments_ = stripe(stripe_api)
    stripe_api.shutdown()
    stripe_api.server_close()

    with pytest.raises(PaymentUnavailableError):
        payments_.capture("abc", "pi_1", 4_999, "USD", KEY)


def test_without_an_api_key_stripe_payments_say_so() -> None:
    with pytest.raises(PaymentsNotConfiguredError, match="STRIPE_API_KEY"):
        StripePayments(settings())


def test_the_implementation_follows_the_settings() -> None:
    assert isinstance(payments(settings(STRIPE_API_KEY="sk_test_1")), StripePayments)
    assert isinstance(payments(settings(LONGHAUL_STAGE="local")), RecordingPayments)
    assert isinstance(payments(settings(PAYMENTS_PROVIDER="recording")), RecordingPayments)
