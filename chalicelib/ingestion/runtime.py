"""Build the ingestion machinery from settings: the store and the publisher of events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

# The HTTP edge imports this module for CONSUMER_PATH when the app loads: everything heavier is
# imported where it is used, so a cold start of any route does not build the ingestion models.
if TYPE_CHECKING:
    from chalicelib.ingestion.payload import MessagingEvent
    from chalicelib.ingestion.store import ConversationStore
    from chalicelib.queue.messages import PublishReceipt
    from chalicelib.settings import Settings

CONSUMER_PATH = "/api/qstash/instagram-ingestion"


class IngestionNotConfiguredError(RuntimeError):
    """QStash (a token) or the app's public URL, where QStash delivers, is missing."""


def conversation_store(settings: Settings) -> ConversationStore:
    """The DynamoDB store of `settings`' table."""
    from chalicelib.dynamodb import dynamodb_client
    from chalicelib.ingestion.dynamodb_store import DynamoDBConversationStore

    return DynamoDBConversationStore(dynamodb_client(settings), settings.longhaul_table)


def publish_events(events: Sequence[MessagingEvent], settings: Settings) -> list[PublishReceipt]:
    """Hand `events` to QStash for the ingestion consumer, in ONE batch call.

    Raises `IngestionNotConfiguredError` when there is nowhere to publish, and the publisher's
    `PublishFailedError` when QStash does not take the batch.
    """
    from chalicelib.ingestion.service import ingestion_messages
    from chalicelib.queue.publisher import QStashPublisher
    from chalicelib.queue.qstash_client import qstash_client

    consumer_url = settings.public_url(CONSUMER_PATH)
    if not settings.qstash_configured or consumer_url is None:
        raise IngestionNotConfiguredError("QSTASH_TOKEN and PUBLIC_BASE_URL are both needed")
    publisher = QStashPublisher(qstash_client(settings))
    return publisher.publish_batch(ingestion_messages(events, consumer_url))
