"""Signed webhooks to partners: signing, the partner's verification, and one delivery attempt.

Each delivery carries three headers:
- `Longhaul-Event-Id`: the same for every delivery of one event, so a partner drops repeats;
- `Longhaul-Timestamp`: when this delivery was signed (Unix seconds);
- `Longhaul-Signature`: `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the shared secret.
A partner recomputes the signature over the raw body and rejects a timestamp too far from its
own clock, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

EVENT_ID_HEADER: Final = "Longhaul-Event-Id"
TIMESTAMP_HEADER: Final = "Longhaul-Timestamp"
SIGNATURE_HEADER: Final = "Longhaul-Signature"
_SCHEME: Final = "v1="
# Statuses that mean "not now" rather than "never": timeouts and rate limits.
_RETRYABLE_CLIENT_ERRORS: Final = frozenset({408, 429})


class PartnerUnavailableError(RuntimeError):
    """The partner did not take the delivery now (5xx, 408, 429, timeout): worth retrying."""


class PartnerRejectedError(RuntimeError):
    """The partner refused the delivery for good (a 4xx): retrying would not change that."""


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def sign_partner_payload(secret: str, timestamp: int, body: bytes | str) -> str:
    """The `Longhaul-Signature` value for `body` sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify_partner_signature(
    secret: str,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    *,
    now: float,
    tolerance_seconds: int = 300,
) -> bool:
    """True when `signature` signs exactly `body` at `timestamp` with `secret`, and `timestamp`
    is within `tolerance_seconds` of `now` (Unix seconds) either way.

    `signature` may list several comma-separated `v1=` values (sent while a secret is being
    rotated); one match is enough. Comparisons take constant time.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent_at) > tolerance_seconds:
        return False
    expected = sign_partner_payload(secret, sent_at, body)
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters, and a header holds
    # whatever the sender put there.
    candidates = [part.strip().encode() for part in signature.split(",")]
    # Every candidate is compared, so the time taken does not reveal which one matched.
    matches = [hmac.compare_digest(expected.encode(), candidate) for candidate in candidates]
    return any(matches)


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery of `body`."""
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign_partner_payload(secret, timestamp, body),
    }


def deliver(
    url: str, *, event_id: str, body: bytes, secret: str, timestamp: int, timeout: float
) -> int:
    """POST `body` to `url`, signed; returns the partner's 2xx status.

    Raises `PartnerUnavailableError` for a timeout, a network error, a 5xx, 408 or 429, and
    `PartnerRejectedError` for any other answer. A redirect counts as a refusal: the delivery
    did not arrive, and the partner URL is configured, not discovered.
    """
    import httpx

    try:
        response = httpx.post(
            url,
            content=body,
            headers=signed_headers(secret, event_id, timestamp, body),
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        raise PartnerUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status >= 500 or status in _RETRYABLE_CLIENT_ERRORS:
        raise PartnerUnavailableError(f"partner answered {status}")
    raise PartnerRejectedError(f"partner answered {status}: {response.text[:200]}")
