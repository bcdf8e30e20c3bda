"""Upstash-Signature checks with real QStash-style signatures and the SDK's Receiver."""

from __future__ import annotations

import time

import pytest
from qstash import Receiver

from chalicelib.queue.signature import (
    SignatureRejectedError,
    verify_configured,
    verify_signature,
)
from chalicelib.settings import Settings
from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY
from devstack.qstash.signing import sign_delivery

URL = "https://worker.example.on.aws/"
BODY = b'{"scenarioId": "abcdef12", "run": 1, "note": "\xc3\xa9"}'
RECEIVER = Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY)


def sign(
    *, key: str = DEV_CURRENT_SIGNING_KEY, url: str = URL, body: bytes = BODY, age: float = 0
) -> str:
    """A signature as QStash makes it, issued `age` seconds ago (negative: in the future)."""
    return sign_delivery(key=key, url=url, body=body, now=time.time() - age)


def configured(**overrides: str | None) -> Settings:
    """Settings with the development signing keys and `URL` as the worker's URL."""
    values: dict[str, str | None] = {
        "WORKER_URL": URL,
        "QSTASH_CURRENT_SIGNING_KEY": DEV_CURRENT_SIGNING_KEY,
        "QSTASH_NEXT_SIGNING_KEY": DEV_NEXT_SIGNING_KEY,
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.mark.parametrize(
    "key",
    [DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY],
    ids=["current key", "next key (rotation)"],
)
def test_a_signature_by_either_key_is_accepted(key: str) -> None:
    verify_signature(RECEIVER, signature=sign(key=key), body=BODY, url=URL)


@pytest.mark.parametrize(
    ("signature", "body", "url"),
    [
        pytest.param(sign(), BODY + b" ", URL, id="body changed"),
        pytest.param(sign(), BODY, URL + "other", id="another url"),
        pytest.param(sign(url=URL + "other"), BODY, URL, id="signed for another url"),
        pytest.param(None, BODY, URL, id="missing header"),
        pytest.param("", BODY, URL, id="empty header"),
        pytest.param("not.a.jwt", BODY, URL, id="garbage token"),
        pytest.param(sign(age=3600), BODY, URL, id="expired"),
        pytest.param(sign(age=-3600), BODY, URL, id="not yet valid"),
        pytest.param(sign(key="sig_someoneElsesKeyOfThirtyTwoBytes"), BODY, URL, id="other key"),
        pytest.param(sign(body=b"\xff\xfe"), b"\xff\xfe", URL, id="body not utf-8"),
    ],
)
def test_anything_but_an_exact_live_signature_is_rejected(
    signature: str | None, body: bytes, url: str
) -> None:
    with pytest.raises(SignatureRejectedError):
        verify_signature(RECEIVER, signature=signature, body=body, url=url)


def test_a_missing_header_says_so() -> None:
    with pytest.raises(SignatureRejectedError, match="missing Upstash-Signature"):
        verify_signature(RECEIVER, signature=None, body=BODY, url=URL)


def test_verify_configured_accepts_a_valid_signature_with_the_configured_keys() -> None:
    settings = configured()
    verify_configured(settings, signature=sign(), body=BODY, url=settings.worker_url)


def test_verify_configured_rejects_a_forged_signature() -> None:
    with pytest.raises(SignatureRejectedError):
        verify_configured(configured(), signature=sign(body=b"{}"), body=BODY, url=URL)


def test_without_a_configured_url_nothing_is_accepted() -> None:
    with pytest.raises(SignatureRejectedError, match="no public URL"):
        verify_configured(configured(WORKER_URL=None), signature=sign(), body=BODY, url=None)


@pytest.mark.parametrize("missing", ["QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY"])
def test_without_both_signing_keys_nothing_is_accepted(missing: str) -> None:
    with pytest.raises(SignatureRejectedError, match="not configured"):
        verify_configured(configured(**{missing: ""}), signature=sign(), body=BODY, url=URL)
