"""Build checkout's collaborators from settings: the DynamoDB store and the command sender."""

from __future__ import annotations

from chalicelib.checkout.dynamodb_store import DynamoDBOrderStore
from chalicelib.checkout.store import OrderStore
from chalicelib.events.payloads import CheckoutCommand
from chalicelib.settings import Settings


def order_store(settings: Settings) -> OrderStore:
    """The DynamoDB store of `settings`' table."""
    from chalicelib.dynamodb import dynamodb_client

    return DynamoDBOrderStore(dynamodb_client(settings), settings.longhaul_table)


def send_checkout_command(command: CheckoutCommand, correlation_id: str) -> None:
    """Publish `command.checkout` (deduplicated by an id derived from the order)."""
    from chalicelib.events.publishing import publish_checkout_command

    publish_checkout_command(
        command, correlation_id=correlation_id, event_id=f"{command.order_id}.checkout"
    )
