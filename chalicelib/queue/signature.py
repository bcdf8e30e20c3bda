"""Verify that a request really comes from QStash (`Upstash-Signature`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qstash import Receiver

    from chalicelib.settings import Settings


class SignatureRejectedError(Exception):
    """The request is unsigned, forged, expired, or signed for another URL."""


def verify_signature(receiver: Receiver, *, signature: str | None, body: bytes, url: str) -> None:
    """Raise `SignatureRejectedError` unless `signature` signs exactly `body` for `url`.

    `url` must come from configuration, never from the request: behind API Gateway the path the
    app sees differs from the public URL QStash signed, and a request must not choose its own.
    """
    from qstash.errors import SignatureError

    if not signature:
        raise SignatureRejectedError("missing Upstash-Signature header")
    try:
        # The SDK hashes the str it is given; the raw bytes are decoded, never re-serialised.
        receiver.verify(signature=signature, body=body.decode("utf-8"), url=url)
    except (SignatureError, UnicodeDecodeError) as exc:
        raise SignatureRejectedError(str(exc)) from exc


def verify_configured(
    settings: Settings, *, signature: str | None, body: bytes, url: str | None
) -> None:
    """`verify_signature` with the configured keys; rejects when `url` or keys are unset.

    An endpoint QStash calls never runs unverified, whatever is missing from its configuration.
    """
    from chalicelib.queue.qstash_client import QStashNotConfiguredError, qstash_receiver

    if url is None:
        raise SignatureRejectedError("no public URL is configured for this endpoint")
    try:
        receiver = qstash_receiver(settings)
    except QStashNotConfiguredError as exc:
        raise SignatureRejectedError(f"not configured: {exc}") from exc
    verify_signature(receiver, signature=signature, body=body, url=url)
