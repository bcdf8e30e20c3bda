"""The DynamoDB client, created on first use and shared by every caller in the process."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


@lru_cache(maxsize=4)
def dynamodb_client(settings: Settings) -> DynamoDBClient:
    """A low-level DynamoDB client for `settings` (local endpoint when one is configured)."""
    # boto3 is imported here, not at module level: it is the heaviest import in the app and
    # routes that never touch DynamoDB should not pay for it on a cold start.
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.backend_timeout_seconds,
        read_timeout=settings.backend_timeout_seconds,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.client(
        "dynamodb",
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url_dynamodb,
        config=config,
    )


def string_value(value: str) -> AttributeValueTypeDef:
    """`value` as a DynamoDB string attribute."""
    return {"S": value}


def number_value(value: float) -> AttributeValueTypeDef:
    """`value` as a DynamoDB number attribute (a float keeps its full precision)."""
    return {"N": repr(value) if isinstance(value, float) else str(value)}
