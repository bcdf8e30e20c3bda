"""Build billing's collaborators from settings, so the service takes plain ones (and unit tests
pass fakes) while the routes get the real ones from here."""

from __future__ import annotations

from chalicelib.billing.metrics import RedisCounterStore
from chalicelib.billing.models import BillingKind
from chalicelib.billing.service import BillingEnvironment
from chalicelib.settings import Settings

# The routes QStash calls: one consumer per kind, and the failure callback for both.
CONSUMER_PATHS: dict[BillingKind, str] = {
    "invoice": "/api/queue/send_invoice",
    "reminder": "/api/queue/send_reminder",
}
FAILURE_CALLBACK_PATH = "/api/queue/failed"


class BillingNotConfiguredError(RuntimeError):
    """Billing needs Upstash Redis (for exactly-once sending) and an SMTP server."""


def counter_store(settings: Settings) -> RedisCounterStore:
    """The billing counters in the configured Upstash Redis."""
    from chalicelib.redis_client import RedisNotConfiguredError, upstash_redis_client

    try:
        return RedisCounterStore(upstash_redis_client(settings))
    except RedisNotConfiguredError as exc:
        raise BillingNotConfiguredError(f"set {exc}") from exc


def billing_environment(settings: Settings) -> BillingEnvironment:
    """The real collaborators for `settings`; `BillingNotConfiguredError` when one is missing.

    QStash is used only with the flag on, a token, and a public URL for it to call back.
    """
    from chalicelib.mail.sender import MailNotConfiguredError, mailer
    from chalicelib.queue.idempotency import settings_persistence
    from chalicelib.queue.publisher import QStashPublisher
    from chalicelib.queue.qstash_client import qstash_client

    counters = counter_store(settings)
    try:
        sender = mailer(settings)
    except MailNotConfiguredError as exc:
        raise BillingNotConfiguredError(str(exc)) from exc
    consumer_urls = {
        kind: url
        for kind, path in CONSUMER_PATHS.items()
        if (url := settings.public_url(path)) is not None
    }
    usable = settings.enable_async_queue and settings.qstash_configured and consumer_urls
    return BillingEnvironment(
        mailer=sender,
        persistence=settings_persistence(settings),
        counters=counters,
        publisher=QStashPublisher(qstash_client(settings)) if usable else None,
        enabled=settings.enable_async_queue,
        consumer_urls=consumer_urls,
        failure_callback=settings.public_url(FAILURE_CALLBACK_PATH),
    )
