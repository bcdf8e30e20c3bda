"""Settings of the Upstash-REST-compatible Redis endpoint."""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The token the `local` stage's app is configured with; anything else is answered with a 401.
DEFAULT_TOKEN = "longhaul-local-redis-token"  # noqa: S105
DEFAULT_PORT = 8079
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_URL_VARIABLE = "REDIS_URL"

BackendChoice = Literal["auto", "redis", "embedded"]


def redis_url_from_environment() -> str:
    """`REDIS_URL` when it is set and not empty, else the conventional local Redis."""
    return os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL


class RedisRestConfig(BaseModel):
    """Who may call the endpoint and which Redis answers its commands."""

    # The URL may hold a password: keep input values out of validation error messages.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    token: str = Field(
        default=DEFAULT_TOKEN, min_length=1, description="Bearer token callers must present."
    )
    redis_url: str = Field(
        default_factory=redis_url_from_environment,
        description="The real Redis to forward to (redis://, rediss:// or unix://).",
    )
    backend: BackendChoice = Field(
        default="auto",
        description=(
            "'auto': the real Redis when it answers a PING at start-up, else the embedded one; "
            "'redis': the real Redis or fail; 'embedded': always the in-process Redis."
        ),
    )
    probe_timeout_seconds: float = Field(
        default=0.5, gt=0, description="How long the start-up PING may take."
    )
    command_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Socket timeout for each exchange with the real Redis, so no request hangs.",
    )

    @field_validator("redis_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"redis", "rediss", "unix"}:
            raise ValueError(f"must use redis://, rediss:// or unix://, not {parts.scheme!r}")
        _ = parts.port  # raises ValueError for a port that is not a number in range
        return value
