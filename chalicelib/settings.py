"""The application's configuration: one typed model, read from the environment on first use.

Reading lazily matters twice: Lambda cold starts stay cheap, and chalice's test client only
patches the environment while a request runs.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator


class Settings(BaseModel):
    """Every setting the application reads; a field `x_y` is the environment variable `X_Y`."""

    model_config = ConfigDict(
        alias_generator=str.upper, populate_by_name=True, extra="ignore", frozen=True
    )

    stage: str = Field(default="local", validation_alias="LONGHAUL_STAGE")
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # boto3 reads this variable itself too; it is here so health can report the endpoint.
    aws_endpoint_url_dynamodb: str | None = None
    longhaul_table: str = "longhaul-local"

    qstash_url: str = "https://qstash.upstash.io"
    qstash_token: SecretStr | None = None
    qstash_current_signing_key: SecretStr | None = None
    qstash_next_signing_key: SecretStr | None = None

    upstash_redis_rest_url: str | None = None
    upstash_redis_rest_token: SecretStr | None = None

    # Where QStash reaches the worker (its Lambda Function URL) and where it calls the app back.
    # Both are also the URLs signatures are verified against, so they come from configuration.
    worker_url: str | None = None
    public_base_url: str | None = None
    # How the worker runs when QStash cannot take a message: an asynchronous Lambda invoke in
    # AWS, a background thread when the app runs locally.
    worker_fallback: Literal["lambda", "thread"] = "lambda"
    worker_function_name: str | None = None
    worker_retries: int = Field(default=3, ge=0, le=10)
    # The worker hands over to a continuation when less than this much Lambda time remains.
    worker_reserve_seconds: int = Field(default=60, ge=1, le=900)
    scenario_retention_days: int = Field(default=30, ge=1)

    # Every call to a backend is bounded: the SDKs' defaults (no timeout, or ten minutes) would
    # let one slow dependency hold a request until API Gateway gives up at 29 s.
    backend_timeout_seconds: float = Field(default=3.0, gt=0, le=30)

    # Every generation costs compute, so each client may start at most this many in any window
    # of this length; 0 turns the limit off (a private deployment, or load tests).
    generate_rate_limit: int = Field(default=10, ge=0)
    generate_rate_window_seconds: int = Field(default=60, ge=1, le=86_400)

    # The Redis job queue. The processor endpoint wants this bearer token; without one it
    # refuses every call. A claimed job returns to the queue when its worker has not finished it
    # within the visibility timeout (a crashed or frozen worker).
    job_processor_secret_token: SecretStr | None = None
    job_visibility_timeout_seconds: int = Field(default=120, ge=5, le=900)
    # After an enqueue, ask QStash to call the processor at once instead of waiting for the
    # next scheduled drain (a minute at most).
    job_drain_on_enqueue: bool = True
    # Every key of the queue lives under `longhaul:jobs:{<name>}`: one Redis can hold several
    # independent queues (stages sharing a database, or test sessions sharing a local Redis).
    job_queue_name: str = Field(default="q", pattern=r"^[A-Za-z0-9_-]{1,64}$")

    # Billing sends through QStash only when this flag is on (and QStash is configured).
    enable_async_queue: bool = False

    # Outgoing mail: any SMTP server (the local stack's sink locally).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "Longhaul <no-reply@longhaul.invalid>"

    # Payments: Stripe in AWS; a recording implementation (writes to the app's table) locally.
    payments_provider: Literal["stripe", "recording"] | None = None
    stripe_api_key: SecretStr | None = None
    # Partner webhooks are signed with this secret (HMAC-SHA256 over timestamp and body).
    webhook_signing_secret: SecretStr | None = None

    # Event bus: admin routes (dead letters, products) want this bearer token; without one
    # they refuse every call. Stock at or below the threshold publishes inventory.low_stock.
    admin_token: SecretStr | None = None
    low_stock_threshold: int = Field(default=5, ge=0)

    # Instagram (Meta) webhooks: the app secret signs each POST (X-Hub-Signature-256); the
    # verify token is what the subscription handshake must echo.
    instagram_app_secret: SecretStr | None = None
    instagram_verify_token: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, values: Any) -> Any:
        """An empty variable means "not set", as in a shell script: its default applies."""
        if not isinstance(values, dict):
            return values
        return {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}

    @model_validator(mode="after")
    def _thread_fallback_only_locally(self) -> Settings:
        # In Lambda a background thread freezes once the response is sent: work would stall.
        if self.worker_fallback == "thread" and self.stage != "local":
            raise ValueError("WORKER_FALLBACK=thread is for the local stage only")
        return self

    @property
    def payments(self) -> Literal["stripe", "recording"]:
        """Which payments implementation runs: as configured, else recording only locally."""
        if self.payments_provider is not None:
            return self.payments_provider
        return "recording" if self.stage == "local" else "stripe"

    @property
    def qstash_configured(self) -> bool:
        """Publishing needs a token; without one, work runs inline."""
        return self.qstash_token is not None

    @property
    def worker_function(self) -> str:
        """The worker Lambda's name: as configured, else the name Chalice gives it."""
        return self.worker_function_name or f"longhaul-{self.stage}-worker"

    def public_url(self, path: str) -> str | None:
        """The public URL of one of the app's routes, or None when no base URL is configured."""
        if self.public_base_url is None:
            return None
        return self.public_base_url.rstrip("/") + path

    @property
    def redis_configured(self) -> bool:
        """The Upstash REST client needs both its URL and its token."""
        return self.upstash_redis_rest_url is not None and self.upstash_redis_rest_token is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, validated once per process (call `get_settings.cache_clear()` in tests)."""
    # Plain pydantic over os.environ: pydantic-settings would double the import cost.
    return Settings.model_validate(dict(os.environ))
