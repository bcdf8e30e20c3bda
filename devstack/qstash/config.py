"""Settings of the local QStash server and the public development credentials it accepts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# The fixed credentials of the official `qstash dev` server. Accepting the same ones lets users
# switch between that binary and this server without touching their configuration.
DEV_TOKEN = "eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0="  # noqa: S105
DEV_CURRENT_SIGNING_KEY = "sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r"
DEV_NEXT_SIGNING_KEY = "sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs"
DEFAULT_PORT = 8080


class QStashServerConfig(BaseModel):
    """How the local server authenticates, signs, paces and sabotages deliveries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tokens: tuple[str, ...] = Field(
        default=(DEV_TOKEN,), min_length=1, description="Bearer tokens accepted from publishers."
    )
    current_signing_key: str = Field(default=DEV_CURRENT_SIGNING_KEY, min_length=1)
    next_signing_key: str = Field(default=DEV_NEXT_SIGNING_KEY, min_length=1)
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Multiplies every waiting period: Upstash-Delay, Upstash-Not-Before, retry backoff, "
            "Retry-After, Upstash-Retry-Delay and the cron firing interval."
        ),
    )
    fail_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Probability that an attempt fails before reaching the destination.",
    )
    duplicate_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Probability that an attempt is accompanied by extra, duplicate deliveries.",
    )
    duplicate_copies: int = Field(
        default=1,
        ge=1,
        le=10,
        description="How many extra copies a duplicated attempt sends (2: delivered 3 times).",
    )
    latency: float = Field(
        default=0.0, ge=0, description="Seconds waited before each outgoing delivery."
    )
    max_concurrent_deliveries: int = Field(
        default=100, ge=1, description="Upper bound on outgoing requests in flight at once."
    )
    seed: int | None = Field(
        default=None, description="Seed of the chaos random generator, for reproducible runs."
    )
