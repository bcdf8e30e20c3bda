"""Proving a request comes from Meta: the subscription handshake and the payload signature."""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SIGNATURE_PREFIX = "sha256="


class SubscriptionRefusedError(Exception):
    """The handshake's verify token is not ours (or none is configured)."""


class SignatureRejectedError(Exception):
    """`X-Hub-Signature-256` is missing, malformed, or does not sign the body."""


class SubscriptionQuery(BaseModel):
    """The query string of Meta's subscription handshake (`GET` on the webhook URL)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mode: Literal["subscribe"] = Field(alias="hub.mode")
    verify_token: str = Field(alias="hub.verify_token", min_length=1, max_length=512)
    challenge: str = Field(alias="hub.challenge", min_length=1, max_length=512)


def accept_subscription(query: SubscriptionQuery, verify_token: str | None) -> str:
    """The challenge to echo, once the handshake's token is proven to be `verify_token`.

    Raises `SubscriptionRefusedError` when it is not, or when no token is configured.
    """
    # Compared in constant time: the token is a shared secret.
    if verify_token is None or not hmac.compare_digest(
        query.verify_token.encode(), verify_token.encode()
    ):
        raise SubscriptionRefusedError("verify token does not match")
    return query.challenge


def payload_signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends with `body`: HMAC-SHA256 with the app secret."""
    return SIGNATURE_PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_payload_signature(app_secret: str, body: bytes, header: str | None) -> None:
    """Raise `SignatureRejectedError` unless `header` signs the RAW `body` with `app_secret`.

    The raw bytes matter: a re-serialised JSON body would not hash the same.
    """
    if not header:
        raise SignatureRejectedError("X-Hub-Signature-256 is missing")
    if not header.startswith(SIGNATURE_PREFIX):
        raise SignatureRejectedError("X-Hub-Signature-256 is not sha256=<hex>")
    expected = payload_signature(app_secret, body)
    # Lower-cased so an upper-case hex digest from a proxy still matches; ASCII-encoded (with
    # replacement) because compare_digest refuses non-ASCII str.
    given = header.strip().lower().encode("ascii", "replace")
    if not hmac.compare_digest(given, expected.encode()):
        raise SignatureRejectedError("X-Hub-Signature-256 does not sign this body")
