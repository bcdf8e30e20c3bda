"""The DynamoDB tables, read from the one definition (`resources.json`) that deployment uses too.

`resources.json` is the template `chalice package --merge-template` merges into the deployment;
the local stack turns the same properties into CreateTable calls so both always agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFINITION_FILE = Path(__file__).with_name("resources.json")


class TableMetadata(BaseModel):
    """Which environment variable carries the table's name in each stage."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    name_variable: str = Field(alias="NameVariable")


class TableDefinition(BaseModel):
    """One `AWS::DynamoDB::Table` resource of the definition file."""

    model_config = ConfigDict(populate_by_name=True)

    logical_id: str
    metadata: TableMetadata = Field(alias="Metadata")
    properties: dict[str, Any] = Field(alias="Properties")

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """The keyword arguments of `CreateTable` for this definition under `table_name`."""
        request = {k: v for k, v in self.properties.items() if k != "TimeToLiveSpecification"}
        request["TableName"] = table_name
        return request

    def time_to_live(self) -> dict[str, Any] | None:
        """The `TimeToLiveSpecification`, applied with a separate call after creation."""
        spec = self.properties.get("TimeToLiveSpecification")
        return dict(spec) if spec else None


def load_table_definitions(path: Path = DEFINITION_FILE) -> list[TableDefinition]:
    """Every table resource in the definition file."""
    resources: dict[str, dict[str, Any]] = json.loads(path.read_text())["Resources"]
    return [
        TableDefinition.model_validate({"logical_id": logical_id, **resource})
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    ]


def create_tables(client: DynamoDBClient, environment: Mapping[str, str]) -> list[str]:
    """Create every defined table, named as `environment` says; return the names.

    Safe to call again: a table that already exists is left as it is.
    """
    existing = set(client.list_tables()["TableNames"])
    names = []
    for table in load_table_definitions():
        name = environment[table.metadata.name_variable]
        names.append(name)
        if name in existing:
            continue
        client.create_table(**table.create_table_request(name))
        client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        ttl = table.time_to_live()
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)  # type: ignore[arg-type]
    return names
