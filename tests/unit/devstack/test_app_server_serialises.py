"""The local app server hands the app one request at a time, as one Lambda container does."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from chalice.app import Chalice

from devstack.app_server import _OneRequestAtATime


class OverlapRecorder:
    """A stand-in app that records how many calls ran at once, and has one attribute."""

    routes = {"/": "index"}

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.seen: list[str] = []
        self._guard = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self._guard:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.01)
        self.seen.append(event["id"])
        with self._guard:
            self.running -= 1
        return {"id": event["id"]}


def test_overlapping_requests_reach_the_app_one_after_another() -> None:
    recorder = OverlapRecorder()
    app = _OneRequestAtATime(cast(Chalice, recorder))
    answers: dict[str, Any] = {}

    def call(request_id: str) -> None:
        answers[request_id] = app({"id": request_id}, None)

    threads = [threading.Thread(target=call, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert recorder.most == 1
    assert sorted(recorder.seen) == sorted(answers)
    assert all(answer == {"id": key} for key, answer in answers.items())


def test_everything_else_is_the_app_itself() -> None:
    recorder = OverlapRecorder()
    assert _OneRequestAtATime(cast(Chalice, recorder)).routes is recorder.routes
