"""The local stand-in for the scheduled job drain: a thread that drains the queue every second.

`chalice local` runs no schedules, so while the local stack runs this thread does what the
`drain_jobs` Lambda does in AWS, through the same code (handlers loaded from the catalogue,
batches processed by `JobRuntime.drain`), reading the app's settings from the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from chalicelib.jobs.catalogue import load_job_handlers
from chalicelib.jobs.registry import JobRegistry
from chalicelib.jobs.runtime import JobRuntime, job_runtime
from chalicelib.observability import logger
from chalicelib.settings import Settings, get_settings

DRAIN_INTERVAL_SECONDS = 1.0


RuntimeFactory = Callable[[Settings, JobRegistry], JobRuntime]


class JobDrainer:
    """Drains a job queue every `interval` seconds until stopped.

    By default the configured queue with the catalogue's handlers, as the deployed schedule;
    `runtime` and `load_handlers` let a test drain a queue and registry of its own.
    """

    def __init__(
        self,
        interval: float = DRAIN_INTERVAL_SECONDS,
        *,
        runtime: RuntimeFactory = job_runtime,
        load_handlers: Callable[[], JobRegistry] = load_job_handlers,
    ) -> None:
        self.interval = interval
        self._runtime = runtime
        self._load_handlers = load_handlers
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_problem: str | None = None

    def start(self) -> JobDrainer:
        """Start draining from a daemon thread."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="job-drain", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the draining thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.drain_once()

    def drain_once(self) -> None:
        """One drain of every job type; a problem is logged (once until it changes), never
        raised, so the thread lives on until the stack stops."""
        try:
            settings = get_settings()
            if not settings.redis_configured:
                return
            registry = self._load_handlers()
            self._runtime(settings, registry).drain(keep_going=lambda: not self._stopping.is_set())
        except Exception as exc:  # a thread that died would stop draining without a trace
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._last_problem:
                logger.exception("local job drain failed", extra={"error": problem})
            self._last_problem = problem
        else:
            self._last_problem = None

    def stop(self) -> None:
        """Stop draining; waits for the batch in progress to finish."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
