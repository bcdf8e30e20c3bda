"""The registry maps each job type to one handler and its payload model."""

from __future__ import annotations

import sys

import pytest
from pydantic import BaseModel

from chalicelib.jobs.catalogue import JOB_HANDLER_MODULES, load_job_handlers
from chalicelib.jobs.registry import JobContext, JobRegistry, registry


class Ping(BaseModel):
    target: str


def test_a_decorated_function_handles_its_type_with_its_model() -> None:
    handlers = JobRegistry()

    @handlers.handler("ping", Ping)
    def ping(payload: Ping, job: JobContext) -> dict[str, str]:
        return {"pinged": payload.target}

    registered = handlers.get("ping")
    assert registered is not None
    assert (registered.job_type, registered.payload_model, registered.run) == ("ping", Ping, ping)
    assert handlers.get("pong") is None


def test_types_are_listed_sorted() -> None:
    handlers = JobRegistry()
    for name in ("zeta", "alpha", "mid_1"):
        handlers.handler(name, Ping)(lambda payload, job: None)

    assert handlers.types == ("alpha", "mid_1", "zeta")


def test_a_type_has_one_handler_only() -> None:
    handlers = JobRegistry()
    handlers.handler("ping", Ping)(lambda payload, job: None)

    with pytest.raises(ValueError, match="already has a handler"):
        handlers.handler("ping", Ping)


@pytest.mark.parametrize("name", ["", "Ping", "send email", "a:b", "x" * 65, "{tag}"])
def test_a_type_name_must_be_a_plain_token(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        JobRegistry().handler(name, Ping)


def test_loading_the_catalogue_imports_every_handler_module_into_the_default_registry() -> None:
    loaded = load_job_handlers()

    assert loaded is registry
    assert set(JOB_HANDLER_MODULES) <= set(sys.modules)
    assert loaded.types  # the modules registered something
