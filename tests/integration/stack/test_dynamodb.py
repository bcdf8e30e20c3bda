"""DynamoDB in the local stack: moto's server with the tables of the shared definition."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from devstack.dynamodb import DynamoDBServer, create_tables
from infra.tables import load_table_definitions


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[DynamoDBServer]:
    server = DynamoDBServer(port=0).start()
    yield server
    server.stop()


def _client(server: DynamoDBServer):  # type: ignore[no-untyped-def]
    return boto3.client(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_every_defined_table_is_created_as_defined(dynamodb: DynamoDBServer) -> None:
    names = create_tables(dynamodb.url, "us-east-1", {"LONGHAUL_TABLE": "defined-as-defined"})
    assert names == ["defined-as-defined"]
    [definition] = load_table_definitions()
    described = _client(dynamodb).describe_table(TableName="defined-as-defined")["Table"]
    assert described["KeySchema"] == definition.properties["KeySchema"]
    ttl = _client(dynamodb).describe_time_to_live(TableName="defined-as-defined")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"


def test_creating_again_keeps_existing_data(dynamodb: DynamoDBServer) -> None:
    env = {"LONGHAUL_TABLE": "created-twice"}
    create_tables(dynamodb.url, "us-east-1", env)
    client = _client(dynamodb)
    client.put_item(TableName="created-twice", Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    create_tables(dynamodb.url, "us-east-1", env)
    assert client.get_item(TableName="created-twice", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})[
        "Item"
    ]
