"""run_once against the real Redis, through the local Upstash REST endpoint and the official SDK:
an effect runs once per key whether calls repeat, race, fail, or die mid-effect."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from upstash_redis import Redis

from chalicelib.queue.idempotency import (
    OnceResult,
    StillRunningError,
    persistence_layer,
    run_once,
)
from devstack.stack import LocalStack, StackOptions

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Records of these tests expire soon after the run instead of lingering for a day.
REMEMBER_SECONDS = 60


class CountingTransport(httpx.BaseTransport):
    """The SDK's HTTP transport, counting every request it sends (one per round trip)."""

    def __init__(self) -> None:
        self.requests = 0
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self._inner.handle_request(request)


class Effect:
    """An effect that counts its runs and returns which run it was."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        return {"run": self.runs}


class FailingOnce(Effect):
    """Raises on its first run, succeeds afterwards."""

    def __call__(self) -> dict[str, Any]:
        result = super().__call__()
        if self.runs == 1:
            raise RuntimeError("the effect failed")
        return result


class ProcessDied(BaseException):
    """The process dying mid-effect: Powertools' cleanup, which catches Exception, never runs."""


class AlmostTimedOut:
    """A Lambda context whose invocation is about to time out."""

    def get_remaining_time_in_millis(self) -> int:
        return 0


@pytest.fixture(scope="module")
def redis_rest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Only the Upstash REST endpoint (backed by the real Redis when one answers)."""
    options = StackOptions.on_free_ports(tmp_path_factory.mktemp("unused-mail"))
    stack = LocalStack(options).start(only=["redis-rest"])
    yield stack
    stack.stop()


def _client(stack: LocalStack, transport: httpx.BaseTransport | None = None) -> Redis:
    env = stack.app_environment()
    client = Redis(
        url=env["UPSTASH_REDIS_REST_URL"],
        token=env["UPSTASH_REDIS_REST_TOKEN"],
        rest_retries=0,
        allow_telemetry=False,
    )
    if transport is not None:
        # The SDK offers no transport option; its httpx client is swapped for a counting one.
        client._http._client = httpx.Client(transport=transport, timeout=10)
    return client


@pytest.fixture
def redis(redis_rest: LocalStack) -> Redis:
    return _client(redis_rest)


@pytest.fixture
def key() -> str:
    return f"test-once:{uuid.uuid4().hex}"


def _once(
    key: str, effect: Callable[[], dict[str, Any]], redis: Redis, **options: Any
) -> OnceResult:
    return run_once(
        key,
        effect,
        persistence=persistence_layer(redis),
        remember_seconds=REMEMBER_SECONDS,
        **options,
    )


def test_a_first_call_runs_the_effect_and_a_second_returns_its_stored_result(
    redis: Redis, key: str
) -> None:
    effect = Effect()

    first = _once(key, effect, redis)
    second = _once(key, effect, redis)

    assert first == OnceResult(value={"run": 1}, duplicate=False)
    assert second == OnceResult(value={"run": 1}, duplicate=True)
    assert effect.runs == 1


def test_each_key_has_its_own_record(redis: Redis, key: str) -> None:
    effect = Effect()

    _once(key, effect, redis)
    other = _once(f"{key}-other", effect, redis)

    assert other == OnceResult(value={"run": 2}, duplicate=False)


def test_an_effect_that_raises_leaves_no_record_so_a_retry_runs_it(redis: Redis, key: str) -> None:
    effect = FailingOnce()

    with pytest.raises(RuntimeError, match="the effect failed"):
        _once(key, effect, redis)
    retried = _once(key, effect, redis)

    assert retried == OnceResult(value={"run": 2}, duplicate=False)
    assert effect.runs == 2


def test_concurrent_calls_run_the_effect_exactly_once(redis_rest: LocalStack, key: str) -> None:
    callers = 6
    start = threading.Barrier(callers)
    others_done = threading.Semaphore(0)
    runs: list[int] = []

    def effect() -> dict[str, Any]:
        runs.append(1)
        # Hold the effect until every other caller has had its answer, so they all overlap it.
        for _ in range(callers - 1):
            assert others_done.acquire(timeout=20), "the other callers never answered"
        return {"sent": True}

    def call(_: int) -> OnceResult | StillRunningError:
        client = _client(redis_rest)  # each caller has its own client, as separate Lambdas do
        start.wait(timeout=20)
        try:
            result = run_once(
                key, effect, persistence=persistence_layer(client), remember_seconds=60
            )
        except StillRunningError as exc:
            others_done.release()
            return exc
        if result.duplicate:
            others_done.release()
        return result

    with ThreadPoolExecutor(max_workers=callers) as pool:
        outcomes = list(pool.map(call, range(callers)))

    assert len(runs) == 1
    ran = [o for o in outcomes if isinstance(o, OnceResult) and not o.duplicate]
    assert ran == [OnceResult(value={"sent": True}, duplicate=False)]
    for outcome in outcomes:
        assert isinstance(outcome, StillRunningError) or outcome.duplicate or outcome in ran
    # Once the effect completed, a latecomer gets its result.
    assert _once(key, Effect(), _client(redis_rest)).duplicate is True


def _dies() -> dict[str, Any]:
    raise ProcessDied


def test_a_call_that_died_mid_effect_does_not_block_the_next_one(redis: Redis, key: str) -> None:
    with pytest.raises(ProcessDied):
        run_once(
            key,
            _dies,
            persistence=persistence_layer(redis),
            remember_seconds=REMEMBER_SECONDS,
            lambda_context=cast("LambdaContext", AlmostTimedOut()),
        )
    effect = Effect()

    later = _once(key, effect, redis)

    assert later == OnceResult(value={"run": 1}, duplicate=False)
    assert effect.runs == 1


def test_without_a_lambda_context_a_dead_call_blocks_its_key(redis: Redis, key: str) -> None:
    # The contrast that shows the record above really was left behind: with no deadline known,
    # a record in progress is trusted until it expires.
    with pytest.raises(ProcessDied):
        _once(key, _dies, redis)
    effect = Effect()

    with pytest.raises(StillRunningError):
        _once(key, effect, redis)
    assert effect.runs == 0


def test_a_call_in_progress_turns_others_away_until_it_completes(redis: Redis, key: str) -> None:
    inner: list[OnceResult | StillRunningError] = []

    def effect() -> dict[str, Any]:
        try:
            inner.append(_once(key, Effect(), redis))
        except StillRunningError as exc:
            inner.append(exc)
        return {"outer": True}

    outer = _once(key, effect, redis)

    assert len(inner) == 1
    assert isinstance(inner[0], StillRunningError)
    assert outer == OnceResult(value={"outer": True}, duplicate=False)


def test_a_first_delivery_costs_two_round_trips_and_a_duplicate_one(
    redis_rest: LocalStack, key: str
) -> None:
    transport = CountingTransport()
    counted = _client(redis_rest, transport)

    _once(key, Effect(), counted)
    first = transport.requests
    transport.requests = 0
    _once(key, Effect(), counted)

    assert (first, transport.requests) == (2, 1)
