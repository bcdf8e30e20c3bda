"""Partner webhook signatures (sign, verify, reject replays) and how a delivery's answer is
sorted into done, retry and never."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.escrow.partner_webhooks import (
    PartnerRejectedError,
    PartnerUnavailableError,
    deliver,
    sign_partner_payload,
    signed_headers,
    verify_partner_signature,
)

SECRET = "whsec_test"
BODY = b'{"eventId":"evt_1","state":"released"}'
SENT = 1_767_225_600


def test_the_signature_is_v1_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    # Known answer, from another implementation: printf '<timestamp>.<body>' | openssl dgst
    # -sha256 -hmac <secret>
    expected = "045e3787151f37119effbeeef4b6b45932b066b03f0a8f9774e8162d63900028"
    assert sign_partner_payload(SECRET, SENT, BODY) == f"v1={expected}"
    assert sign_partner_payload(SECRET, SENT, BODY.decode()) == f"v1={expected}"


def test_a_fresh_signature_verifies() -> None:
    signature = sign_partner_payload(SECRET, SENT, BODY)
    assert verify_partner_signature(SECRET, str(SENT), BODY, signature, now=SENT + 5)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "signature"),
    [
        ("another-secret", SENT, BODY, None),
        (SECRET, SENT, BODY.replace(b"released", b"refunded"), None),
        (SECRET, SENT + 1, BODY, None),  # the timestamp is part of what is signed
        (SECRET, SENT, BODY, "v1=" + "0" * 64),
        (SECRET, SENT, BODY, ""),
        (SECRET, SENT, BODY, "v1=é" + "0" * 63),  # a header may hold anything
        (SECRET, "not-a-number", BODY, None),
    ],
)
def test_a_wrong_secret_body_timestamp_or_signature_is_rejected(
    secret: str, timestamp: int | str, body: bytes, signature: str | None
) -> None:
    genuine = sign_partner_payload(SECRET, SENT, BODY)
    assert not verify_partner_signature(
        secret, timestamp, body, signature if signature is not None else genuine, now=SENT
    )


@pytest.mark.parametrize("offset", [-301, 301, 86_400])
def test_a_replay_outside_the_tolerance_is_rejected(offset: int) -> None:
    signature = sign_partner_payload(SECRET, SENT, BODY)
    assert not verify_partner_signature(SECRET, SENT, BODY, signature, now=SENT + offset)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_a_delivery_within_the_tolerance_is_accepted(offset: int) -> None:
    signature = sign_partner_payload(SECRET, SENT, BODY)
    assert verify_partner_signature(SECRET, SENT, BODY, signature, now=SENT + offset)


def test_the_tolerance_can_be_narrowed() -> None:
    signature = sign_partner_payload(SECRET, SENT, BODY)
    assert not verify_partner_signature(
        SECRET, SENT, BODY, signature, now=SENT + 31, tolerance_seconds=30
    )


def test_one_matching_signature_among_several_is_enough() -> None:
    rotating = f"{sign_partner_payload('old-secret', SENT, BODY)}, " + sign_partner_payload(
        SECRET, SENT, BODY
    )
    assert verify_partner_signature(SECRET, SENT, BODY, rotating, now=SENT)


def test_the_headers_carry_event_id_timestamp_and_signature() -> None:
    headers = signed_headers(SECRET, "evt_1", SENT, BODY)
    assert headers["Longhaul-Event-Id"] == "evt_1"
    assert headers["Longhaul-Timestamp"] == str(SENT)
    assert verify_partner_signature(
        SECRET, headers["Longhaul-Timestamp"], BODY, headers["Longhaul-Signature"], now=SENT
    )


class Partner(ThreadingHTTPServer):
    """A partner endpoint on loopback answering `status`, keeping what it received."""

    status = 204
    received: list[tuple[dict[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    server: Partner

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append((dict(self.headers.items()), self.rfile.read(length)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is not the place for access logs."""


@pytest.fixture
def partner() -> Iterator[Partner]:
    server = Partner(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(partner: Partner) -> str:
    return f"http://127.0.0.1:{partner.server_address[1]}/hooks"


def _deliver(url: str) -> int:
    return deliver(url, event_id="evt_1", body=BODY, secret=SECRET, timestamp=SENT, timeout=2)


def test_a_delivery_arrives_signed(partner: Partner) -> None:
    assert _deliver(_url(partner)) == 204

    ((headers, body),) = partner.received
    assert body == BODY
    assert headers["Longhaul-Event-Id"] == "evt_1"
    assert headers["Content-Type"] == "application/json"
    assert verify_partner_signature(
        SECRET, headers["Longhaul-Timestamp"], body, headers["Longhaul-Signature"], now=SENT
    )


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_a_server_error_timeout_or_rate_limit_is_worth_a_retry(
    partner: Partner, status: int
) -> None:
    partner.status = status
    with pytest.raises(PartnerUnavailableError):
        _deliver(_url(partner))


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
def test_any_other_refusal_is_final(partner: Partner, status: int) -> None:
    partner.status = status
    with pytest.raises(PartnerRejectedError):
        _deliver(_url(partner))


def test_an_unreachable_partner_is_worth_a_retry(partner: Partner) -> None:
    url = _url(partner)
    partner.shutdown()
    partner.server_close()
    with pytest.raises(PartnerUnavailableError):
        _deliver(url)
