"""The whole local stack: every emulator, started together and stopped in reverse order."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from devstack.dynamodb import LOCAL_CREDENTIALS, DynamoDBServer, create_tables
from devstack.seed import seed_local_products
from devstack.service import BackgroundServer
from devstack.smtp import MailStore, SmtpSink, create_mail_api
from infra.stage_config import PROJECT_DIR, stage_environment

SERVICES = ("dynamodb", "redis-rest", "qstash", "smtp", "worker", "app")


class StackOptions(BaseModel):
    """Where each service listens and how the QStash emulator behaves (0 = any free port)."""

    host: str = "127.0.0.1"
    qstash_port: int = Field(default=8080, ge=0, le=65535)
    redis_rest_port: int = Field(default=8079, ge=0, le=65535)
    dynamodb_port: int = Field(default=8078, ge=0, le=65535)
    smtp_port: int = Field(default=1025, ge=0, le=65535)
    mail_api_port: int = Field(default=8025, ge=0, le=65535)
    worker_port: int = Field(default=8081, ge=0, le=65535)
    app_port: int = Field(default=8000, ge=0, le=65535)
    redis_url: str | None = None  # None: REDIS_URL, else the conventional local Redis
    mail_dir: Path = PROJECT_DIR / ".devstack" / "mail"
    time_scale: float = Field(default=1.0, gt=0)
    fail_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_copies: int = Field(default=1, ge=1, le=10)
    latency: float = Field(default=0.0, ge=0)
    seed: int | None = None

    @classmethod
    def on_free_ports(cls, mail_dir: Path, **overrides: object) -> StackOptions:
        """Every service on a port the system picks, so a stack never collides with another."""
        ports = {name: 0 for name in cls.model_fields if name.endswith("_port")}
        return cls.model_validate({**ports, "mail_dir": mail_dir, **overrides})


@dataclass(frozen=True)
class ServiceInfo:
    """One started service, as printed at start-up."""

    name: str
    url: str
    detail: str = ""


@dataclass
class LocalStack:
    """QStash, Upstash Redis REST, DynamoDB and the SMTP sink, for the `local` stage's app."""

    options: StackOptions = field(default_factory=StackOptions)
    services: list[ServiceInfo] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _urls: dict[str, str] = field(default_factory=dict)
    smtp_port: int = 0
    _saved_environment: dict[str, str] | None = None

    def start(self, only: Collection[str] = SERVICES) -> LocalStack:
        """Start the services named in `only` (all by default), in dependency order.

        On any failure the services already started are stopped and the error re-raised.
        """
        unknown = set(only) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
        starters = {
            "dynamodb": self._start_dynamodb,
            "redis-rest": self._start_redis_rest,
            "qstash": self._start_qstash,
            "smtp": self._start_smtp,
            "worker": self._start_worker,
            "app": self._start_app,
        }
        try:
            for name in SERVICES:
                if name in only:
                    starters[name]()
        except BaseException:
            self.stop()
            raise
        return self

    def _started(self, info: ServiceInfo, stop: Callable[[], None]) -> None:
        self.services.append(info)
        self._urls[info.name] = info.url
        self._stops.append(stop)

    def _start_dynamodb(self) -> None:
        server = DynamoDBServer(self.options.host, self.options.dynamodb_port).start()
        self._started(ServiceInfo("dynamodb", server.url, "moto"), server.stop)
        env = self.app_environment()
        tables = create_tables(server.url, env["AWS_DEFAULT_REGION"], env)
        seed_local_products(server.url, env["AWS_DEFAULT_REGION"], env["LONGHAUL_TABLE"])
        self.services[-1] = ServiceInfo(
            "dynamodb", server.url, f"moto; tables: {', '.join(tables)}"
        )

    def _start_redis_rest(self) -> None:
        from devstack.redis_rest import RedisRestConfig, create_app, select_backend

        env = stage_environment()
        chosen = {} if self.options.redis_url is None else {"redis_url": self.options.redis_url}
        config = RedisRestConfig(token=env["UPSTASH_REDIS_REST_TOKEN"], **chosen)
        backend = select_backend(config)
        server = BackgroundServer(
            lambda: create_app(config, backend),
            host=self.options.host,
            port=self.options.redis_rest_port,
        ).start()
        self._started(ServiceInfo("redis-rest", server.url, backend.description), server.stop)

    def _start_qstash(self) -> None:
        from devstack.qstash import QStashServerConfig, create_app

        config = QStashServerConfig(
            time_scale=self.options.time_scale,
            fail_rate=self.options.fail_rate,
            duplicate_rate=self.options.duplicate_rate,
            duplicate_copies=self.options.duplicate_copies,
            latency=self.options.latency,
            seed=self.options.seed,
        )
        server = BackgroundServer(
            lambda: create_app(config), host=self.options.host, port=self.options.qstash_port
        ).start()
        self._started(ServiceInfo("qstash", server.url, "official dev credentials"), server.stop)

    def _start_smtp(self) -> None:
        store = MailStore(self.options.mail_dir)
        sink = SmtpSink(store, self.options.host, self.options.smtp_port).start()
        self.smtp_port = sink.port
        self._started(ServiceInfo("smtp", f"smtp://{sink.host}:{sink.port}", ""), sink.stop)
        api = BackgroundServer(
            lambda: create_mail_api(store), host=self.options.host, port=self.options.mail_api_port
        ).start()
        self._started(
            ServiceInfo("mail", f"{api.url}/messages", f"stored in {store.directory}"), api.stop
        )

    def _start_worker(self) -> None:
        from devstack.function_url import create_function_url_app

        self._apply_app_environment()
        # The same object Lambda calls: the handler string of a blueprint's function names it.
        from chalicelib.handlers.worker import worker

        server = BackgroundServer(
            lambda: create_function_url_app(worker),
            host=self.options.host,
            port=self.options.worker_port,
        ).start()
        self._started(
            ServiceInfo("worker", f"{server.url}/", "the worker Lambda behind a Function URL"),
            server.stop,
        )

    def _start_app(self) -> None:
        from devstack.app_server import AppServer

        server = AppServer(self.options.host, self.options.app_port).start()
        self._started(
            ServiceInfo("app", server.url, "chalice's local server, stage local"), server.stop
        )
        self._apply_app_environment()
        # `chalice local` runs no schedules: this thread drains the job queue in their place.
        from devstack.job_drain import JobDrainer

        drainer = JobDrainer().start()
        self._started(
            ServiceInfo("job-drain", "in-process", f"every {drainer.interval:g} s"), drainer.stop
        )

    def _apply_app_environment(self) -> None:
        """Give this process the app's environment: the worker and routes run here, reading
        their settings from os.environ as they would in Lambda."""
        from chalicelib.settings import get_settings

        if self._saved_environment is None:
            self._saved_environment = dict(os.environ)
        os.environ.update(self.app_environment())
        get_settings.cache_clear()

    def app_environment(self) -> dict[str, str]:
        """The environment that points the app at this stack (the `local` stage, re-ported)."""
        env = stage_environment()
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        env.update(LOCAL_CREDENTIALS)
        if "dynamodb" in self._urls:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self._urls["dynamodb"]
        if "qstash" in self._urls:
            env["QSTASH_URL"] = self._urls["qstash"]
        if "redis-rest" in self._urls:
            env["UPSTASH_REDIS_REST_URL"] = self._urls["redis-rest"]
        if "worker" in self._urls:
            env["WORKER_URL"] = self._urls["worker"]
        if "app" in self._urls:
            env["PUBLIC_BASE_URL"] = self._urls["app"]
        if self.smtp_port:
            env["SMTP_PORT"] = str(self.smtp_port)
        return env

    def stop(self) -> None:
        """Stop every started service, last started first, and give the environment back."""
        while self._stops:
            self._stops.pop()()
        self.services.clear()
        self._urls.clear()
        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = None
