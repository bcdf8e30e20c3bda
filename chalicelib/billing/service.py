"""Send invoice and reminder emails: queued through QStash when possible, inline when not, and
exactly once per (kind, invoice, send request id) either way.

The inline path and the queued consumer wrap the same effect in `run_once` under the same key,
so a publish that failed ambiguously (QStash took the message, the answer was lost) and the
inline send it triggered still produce one email.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.billing.metrics import CounterStore, count_event, count_fallback
from chalicelib.billing.models import BillingKind, BillingMessage, SendRequest
from chalicelib.billing.rendering import render_email
from chalicelib.mail.sender import Mailer, MailSendError
from chalicelib.observability import logger
from chalicelib.queue.callbacks import DeliveryCallback
from chalicelib.queue.dispatch import FallbackReason, dispatch
from chalicelib.queue.idempotency import OnceResult, StillRunningError, run_once
from chalicelib.queue.messages import OutgoingMessage
from chalicelib.queue.outcome import DeliveryOutcome
from chalicelib.queue.publisher import Publisher

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext

# How long a delivery that finds another one sending the same email waits before trying again.
STILL_RUNNING_RETRY_SECONDS = 5
_STORE_ERRORS = (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError)


class SendFailedError(RuntimeError):
    """The mail server did not take the email; nothing is recorded as sent."""


class SendInProgressError(RuntimeError):
    """Another request or delivery is sending this email right now."""


class StoreUnavailableError(RuntimeError):
    """The once-only record could not be read or written, so nothing was sent."""


@dataclass(frozen=True)
class BillingEnvironment:
    """What billing talks to. `publisher` is None when QStash cannot be used (no token, or no
    public URL for it to call back); `enabled` False forces the inline path."""

    mailer: Mailer
    persistence: BasePersistenceLayer
    counters: CounterStore
    publisher: Publisher | None
    enabled: bool
    consumer_urls: Mapping[BillingKind, str]
    failure_callback: str | None


class SendResult(BaseModel):
    """How a send request left: queued on QStash, or sent inline (and why)."""

    model_config = ConfigDict(serialize_by_alias=True)

    kind: BillingKind
    invoice_id: str = Field(serialization_alias="invoiceId")
    request_id: str = Field(serialization_alias="requestId")
    queued: bool
    message_id: str | None = Field(default=None, serialization_alias="messageId")
    fallback: FallbackReason | None = None
    duplicate: bool = False


def billing_message(
    kind: BillingKind,
    request: SendRequest,
    idempotency_key: str | None,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> BillingMessage:
    """The message for `request`; its send request id is the body's `requestId`, else the
    `Idempotency-Key` header, else a fresh id (then a retried request sends again)."""
    details = request.model_dump(mode="json", by_alias=True, exclude={"request_id"})
    request_id = request.request_id or idempotency_key or new_id()
    return BillingMessage(kind=kind, request_id=request_id, **details)


def send_once(
    message: BillingMessage,
    env: BillingEnvironment,
    lambda_context: LambdaContext | None = None,
) -> OnceResult:
    """Send `message`'s email unless it was sent already (then `duplicate` is True).

    Raises `MailSendError` or `StillRunningError` (nothing is recorded as sent, so a retry
    sends), or `StoreUnavailableError` (Redis failed; in the rare case it failed after the email
    left, a retry may send it again once the in-progress record lapses). `lambda_context`
    bounds how long a send that died mid-way blocks the next attempt.
    """
    email = render_email(message)

    def effect() -> dict[str, Any]:
        env.mailer.send(email)
        return {"emailMessageId": email.message_id}

    try:
        once = run_once(
            message.effect_key,
            effect,
            persistence=env.persistence,
            lambda_context=lambda_context,
        )
    except _STORE_ERRORS as exc:
        raise StoreUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    count_event(env.counters, "duplicate" if once.duplicate else "sent", message.kind)
    return once


def request_send(
    message: BillingMessage,
    env: BillingEnvironment,
    lambda_context: LambdaContext | None = None,
) -> SendResult:
    """Queue `message` for the consumer, or send it inline when QStash cannot take it.

    Raises `SendFailedError` (the mail server refused), `SendInProgressError` or
    `StoreUnavailableError` when the inline send did not happen; the fallback is counted anyway.
    """
    outgoing = OutgoingMessage(
        url=env.consumer_urls.get(message.kind, ""),
        body=message.body(),
        # QStash drops a second publish of the same email within its deduplication window.
        deduplication_id=message.effect_key,
        failure_callback=env.failure_callback,
    )
    sent: list[OnceResult] = []
    problems: list[Exception] = []

    def send_inline() -> None:
        # Kept, not raised through `dispatch`, so the fallback is counted before answering.
        try:
            sent.append(send_once(message, env, lambda_context))
        except (MailSendError, StillRunningError, StoreUnavailableError) as exc:
            logger.warning(
                "inline billing send did not happen",
                extra={"key": message.effect_key, "error": f"{type(exc).__name__}: {exc}"},
            )
            problems.append(exc)

    result = dispatch(outgoing, publisher=env.publisher, fallback=send_inline, enabled=env.enabled)
    answer = SendResult(
        kind=message.kind,
        invoice_id=message.invoice_id,
        request_id=message.request_id,
        queued=result.queued,
        message_id=result.message_id,
        fallback=result.fallback,
    )
    if result.fallback is None:
        count_event(env.counters, "queued", message.kind)
        return answer
    count_fallback(env.counters, result.fallback)
    if problems:
        raise _inline_error(problems[0]) from problems[0]
    return answer.model_copy(update={"duplicate": sent[0].duplicate})


def _inline_error(problem: Exception) -> Exception:
    if isinstance(problem, MailSendError):
        return SendFailedError(str(problem))
    if isinstance(problem, StillRunningError):
        return SendInProgressError(str(problem))
    return StoreUnavailableError(str(problem))


def deliver(
    message: BillingMessage,
    env: BillingEnvironment,
    lambda_context: LambdaContext | None = None,
) -> DeliveryOutcome:
    """The consumer's work for one QStash delivery of `message`, as QStash's contract answer:
    done (with `duplicate`), or try again later when the email could not be sent now."""
    try:
        once = send_once(message, env, lambda_context)
    except StillRunningError:
        return DeliveryOutcome.retry_later(
            "this email is being sent by another delivery", STILL_RUNNING_RETRY_SECONDS
        )
    except MailSendError as exc:
        logger.warning(
            "billing email not sent; QStash will retry",
            extra={"key": message.effect_key, "error": str(exc)},
        )
        return DeliveryOutcome.retry_later(f"the mail server did not take the email: {exc}")
    except StoreUnavailableError as exc:
        return DeliveryOutcome.retry_later(f"the once-only store is unavailable: {exc}")
    return DeliveryOutcome.done(duplicate=once.duplicate, key=message.effect_key)


def record_dead(
    message: BillingMessage, callback: DeliveryCallback, last_error: str, counters: CounterStore
) -> None:
    """QStash gave up on `message` (it stays in QStash's DLQ): log why and count it as dead."""
    logger.error(
        "billing message dead-lettered",
        extra={
            "key": message.effect_key,
            "source_message_id": callback.source_message_id,
            "dlq_id": callback.dlq_id,
            "attempts": callback.attempts,
            "last_error": last_error,
        },
    )
    count_event(counters, "dead", message.kind)
