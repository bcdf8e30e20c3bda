"""Cron schedules that actually fire, on a clock sped up by the configured time scale."""

from __future__ import annotations

import asyncio
import contextlib
import time

from devstack.qstash.config import QStashServerConfig
from devstack.qstash.cron import CronExpression
from devstack.qstash.errors import ApiError
from devstack.qstash.publishing import Publisher, PublishRequest
from devstack.qstash.records import Schedule
from devstack.qstash.store import QStashStore

# The loop re-checks at least this often, and never spins faster than MIN_TICK_SECONDS.
IDLE_SECONDS = 60.0
MIN_TICK_SECONDS = 0.001


class Scheduler:
    """Keeps the schedules and publishes each one's message whenever its cron fires."""

    def __init__(
        self, config: QStashServerConfig, store: QStashStore, publisher: Publisher
    ) -> None:
        self._config = config
        self._store = store
        self._publisher = publisher
        self._changed = asyncio.Event()

    def upsert(self, schedule_id: str, cron: CronExpression, request: PublishRequest) -> Schedule:
        """Create (or replace) schedule `schedule_id`; its first firing follows the cron."""
        self._publisher.prepare(request)  # rejects a bad destination now rather than at firing
        now = time.time()
        next_cron_time = cron.next_after(now)
        schedule = Schedule(
            schedule_id=schedule_id,
            destination=request.destination,
            cron=cron,
            body=request.body,
            options=request.options,
            queue_name=request.queue_name,
            caller_ip=request.caller_ip,
            created_at=now,
            next_cron_time=next_cron_time,
            next_fire=now + (next_cron_time - now) * self._config.time_scale,
        )
        self._store.schedules[schedule_id] = schedule
        self._changed.set()
        return schedule

    async def run(self) -> None:
        """Fire due schedules forever; meant to run as a background task of the app."""
        while True:
            now = time.time()
            for schedule in list(self._store.schedules.values()):
                if schedule.next_fire <= now:
                    self._fire(schedule, now)
                    self._advance(schedule, now)
            upcoming = min(
                (schedule.next_fire for schedule in self._store.schedules.values()),
                default=now + IDLE_SECONDS,
            )
            pause = min(max(upcoming - time.time(), MIN_TICK_SECONDS), IDLE_SECONDS)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), pause)

    def _fire(self, schedule: Schedule, now: float) -> None:
        if schedule.paused:
            return  # a paused schedule's firings are skipped, not postponed
        request = PublishRequest(
            destination=schedule.destination,
            body=schedule.body,
            options=schedule.options,
            caller_ip=schedule.caller_ip,
            queue_name=schedule.queue_name,
            schedule_id=schedule.schedule_id,
        )
        schedule.last_fire = now
        try:
            published = self._publisher.publish(request)
        except ApiError as exc:  # e.g. its URL group was deleted since
            schedule.error = exc.message
            return
        schedule.error = None
        schedule.last_states = {result.message_id: "IN_PROGRESS" for result in published.results}

    def _advance(self, schedule: Schedule, now: float) -> None:
        """Move to the next cron time after now; firings missed while late are skipped."""
        scale = self._config.time_scale
        cron_now = schedule.created_at + (now - schedule.created_at) / scale
        schedule.next_cron_time = schedule.cron.next_after(max(schedule.next_cron_time, cron_now))
        schedule.next_fire = (
            schedule.created_at + (schedule.next_cron_time - schedule.created_at) * scale
        )
