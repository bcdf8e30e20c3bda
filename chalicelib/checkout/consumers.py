"""Checkout's event handlers, registered on the default registry when this module is imported."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import ValidationError

from chalicelib.checkout.runtime import order_store
from chalicelib.checkout.service import place_order, record_audit, send_order_email
from chalicelib.events.consumers import PermanentEventError, consumers
from chalicelib.events.envelope import EventEnvelope
from chalicelib.events.payloads import AuditLog, CheckoutCommand, EmailNotification
from chalicelib.events.publishing import publish_events
from chalicelib.settings import get_settings


@consumers.on("command.checkout")
def on_checkout_command(payload: CheckoutCommand, event: EventEnvelope) -> dict[str, Any]:
    """Decide the order once and publish what followed."""
    settings = get_settings()
    return place_order(
        payload,
        event,
        store=order_store(settings),
        publish=publish_events,
        low_stock_threshold=settings.low_stock_threshold,
    )


@consumers.on("notification.email")
def on_email_notification(payload: EmailNotification, event: EventEnvelope) -> dict[str, Any]:
    """Email the customer over SMTP (once per event, even across retries), note it on the order,
    publish `audit.log`."""
    from chalicelib.mail.sender import mailer
    from chalicelib.queue.idempotency import run_once, settings_persistence

    settings = get_settings()
    try:
        return send_order_email(
            payload,
            event,
            store=order_store(settings),
            mailer=mailer(settings),
            publish=publish_events,
            once=partial(run_once, persistence=settings_persistence(settings)),
        )
    except ValidationError as exc:
        # The template's data is unusable: no retry can render it.
        raise PermanentEventError(f"unusable {payload.template} data") from exc


@consumers.on("audit.log")
def on_audit_log(payload: AuditLog, event: EventEnvelope) -> dict[str, Any]:
    """Keep the audit record."""
    return record_audit(payload, event, store=order_store(get_settings()))
