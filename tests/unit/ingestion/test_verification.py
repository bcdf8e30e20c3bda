"""Meta's handshake and payload signature."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import ValidationError

from chalicelib.ingestion.verification import (
    SignatureRejectedError,
    SubscriptionQuery,
    SubscriptionRefusedError,
    accept_subscription,
    payload_signature,
    verify_payload_signature,
)

SECRET = "app-secret"
BODY = b'{"object": "instagram", "entry": []}'


def test_the_signature_is_sha256_hmac_of_the_raw_body() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert payload_signature(SECRET, BODY) == f"sha256={digest}"
    verify_payload_signature(SECRET, BODY, f"sha256={digest}")
    verify_payload_signature(SECRET, BODY, f"sha256={digest.upper()}")


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (BODY + b" ", payload_signature(SECRET, BODY)),  # the body was changed
        (BODY, payload_signature("another-secret", BODY)),  # someone else's secret
        (BODY, payload_signature(SECRET, BODY).removeprefix("sha256=")),  # no prefix
        (BODY, "sha1=" + hashlib.sha1(BODY).hexdigest()),  # noqa: S324 - the old header's shape
        (BODY, "sha256=not-hex-\u00e9"),
        (BODY, ""),
        (BODY, None),
    ],
)
def test_anything_but_the_right_signature_is_rejected(body: bytes, header: str | None) -> None:
    with pytest.raises(SignatureRejectedError):
        verify_payload_signature(SECRET, body, header)


def _query(**overrides: str) -> dict[str, str]:
    return {
        "hub.mode": "subscribe",
        "hub.verify_token": "the-token",
        "hub.challenge": "1158201444",
        **overrides,
    }


def test_the_handshake_echoes_the_challenge_for_our_token() -> None:
    query = SubscriptionQuery.model_validate(_query())
    assert accept_subscription(query, "the-token") == "1158201444"


@pytest.mark.parametrize("configured", ["another-token", "the-token-", None])
def test_the_handshake_is_refused_for_any_other_token(configured: str | None) -> None:
    with pytest.raises(SubscriptionRefusedError):
        accept_subscription(SubscriptionQuery.model_validate(_query()), configured)


@pytest.mark.parametrize("missing", ["hub.mode", "hub.verify_token", "hub.challenge"])
def test_a_handshake_without_a_parameter_is_invalid(missing: str) -> None:
    query = _query()
    del query[missing]
    with pytest.raises(ValidationError):
        SubscriptionQuery.model_validate(query)


def test_a_handshake_for_another_mode_is_invalid() -> None:
    with pytest.raises(ValidationError):
        SubscriptionQuery.model_validate(_query(**{"hub.mode": "unsubscribe"}))
