"""The JWT QStash puts in `Upstash-Signature` so receivers can trust a delivery."""

from __future__ import annotations

import base64
import hashlib
import secrets
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

# QStash's signing keys (and the official dev keys) are 29 characters; pyjwt's advice to use 32
# bytes is not ours to follow, so its warning would only be noise on every delivery.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

ISSUER = "Upstash"
SIGNATURE_LIFETIME_SECONDS = 300


def body_digest(body: bytes) -> str:
    """Base64url of the SHA-256 of the raw body, without padding, as in the `body` claim."""
    digest = hashlib.sha256(body).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign_delivery(*, key: str, url: str, body: bytes, now: float) -> str:
    """An HS256 JWT over `body` for a request to `url`, valid for five minutes from `now`."""
    issued_at = int(now)
    claims = {
        "iss": ISSUER,
        "sub": url,
        "exp": issued_at + SIGNATURE_LIFETIME_SECONDS,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": f"jwt_{secrets.token_hex(12)}",
        "body": body_digest(body),
    }
    return jwt.encode(claims, key, algorithm="HS256")
