"""The modules that register job handlers, loaded by every edge that processes jobs.

Handlers register themselves on import, so an edge imports these modules before it claims a
job: otherwise a job whose module was not imported would look like an unknown type and be
dead-lettered. A module that fails to import is an error, never skipped.
"""

from __future__ import annotations

import importlib

from chalicelib.jobs.registry import JobRegistry, registry

JOB_HANDLER_MODULES = ("chalicelib.escrow.side_effects",)


def load_job_handlers() -> JobRegistry:
    """Import every module of `JOB_HANDLER_MODULES` and return the filled default registry."""
    for name in JOB_HANDLER_MODULES:
        importlib.import_module(name)
    return registry
