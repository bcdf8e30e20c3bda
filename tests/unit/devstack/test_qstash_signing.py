"""Signatures the server puts on deliveries, checked with the official SDK's Receiver."""

from __future__ import annotations

import time

import jwt
import pytest
from qstash import Receiver
from qstash.errors import SignatureError

from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY
from devstack.qstash.signing import body_digest, sign_delivery

URL = "http://127.0.0.1:9000/jobs?x=1"
BODY = '{"job": "é"}'


def _sign(key: str = DEV_CURRENT_SIGNING_KEY) -> str:
    return sign_delivery(key=key, url=URL, body=BODY.encode(), now=time.time())


def test_receiver_accepts_the_signature_for_the_right_url_and_body() -> None:
    Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY).verify(
        signature=_sign(), body=BODY, url=URL
    )


def test_claims_follow_qstash() -> None:
    now = time.time()
    token = sign_delivery(key=DEV_CURRENT_SIGNING_KEY, url=URL, body=b"abc", now=now)
    claims = jwt.decode(token, DEV_CURRENT_SIGNING_KEY, algorithms=["HS256"], issuer="Upstash")

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["sub"] == URL
    assert claims["nbf"] == claims["iat"] == int(now)
    assert claims["exp"] == int(now) + 300
    assert isinstance(claims["jti"], str)
    assert claims["jti"]
    assert claims["body"] == body_digest(b"abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"


@pytest.mark.parametrize(
    ("body", "url"),
    [(BODY + " ", URL), (BODY, URL + "&y=2"), (BODY, "http://127.0.0.1:9000/jobs")],
)
def test_receiver_rejects_a_changed_body_or_url(body: str, url: str) -> None:
    with pytest.raises(SignatureError):
        Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY).verify(
            signature=_sign(), body=body, url=url
        )


def test_receiver_rejects_a_signature_made_with_another_key() -> None:
    with pytest.raises(SignatureError):
        Receiver(DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY).verify(
            signature=_sign("sig_someoneElsesKeyOfThirtyTwoBytes"), body=BODY, url=URL
        )


def test_a_receiver_that_already_rotated_accepts_the_old_current_key_as_next() -> None:
    Receiver("sig_aBrandNewCurrentKeyOf32Bytes!", DEV_CURRENT_SIGNING_KEY).verify(
        signature=_sign(), body=BODY, url=URL
    )
