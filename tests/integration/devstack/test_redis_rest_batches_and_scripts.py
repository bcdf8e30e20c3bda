"""Pipelines, transactions and Lua scripts through the official SDK, on both backends."""

from __future__ import annotations

import hashlib

import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

pytestmark = pytest.mark.timeout(20)

# Claims the oldest job of a list atomically: the kind of read-modify-write the project does in
# Lua because the REST API has no WATCH.
CLAIM_SCRIPT = """
local job = redis.call('LPOP', KEYS[1])
if not job then return nil end
redis.call('HSET', KEYS[2], job, ARGV[1])
return {job, redis.call('HLEN', KEYS[2])}
"""


def test_pipeline_runs_in_order_and_answers_each_command(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key, counter = f"{redis_key_prefix}k", f"{redis_key_prefix}n"
    pipeline = redis_sdk_client.pipeline()
    pipeline.set(key, "PONG")
    pipeline.get(key)
    pipeline.incr(counter)
    pipeline.incr(counter)
    pipeline.hset(f"{redis_key_prefix}h", values={"a": "1"})
    pipeline.hgetall(f"{redis_key_prefix}h")
    pipeline.get(f"{redis_key_prefix}missing")
    assert pipeline.exec() == [True, "PONG", 1, 2, 1, {"a": "1"}, None]


def test_a_failing_pipeline_command_raises_but_the_others_ran(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    text, after = f"{redis_key_prefix}text", f"{redis_key_prefix}after"
    redis_sdk_client.set(text, "abc")
    pipeline = redis_sdk_client.pipeline()
    pipeline.incr(text)
    pipeline.set(after, "ran")
    with pytest.raises(UpstashError, match="not an integer"):
        pipeline.exec()
    assert redis_sdk_client.get(after) == "ran"


def test_transaction_applies_every_command(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    key, counter = f"{redis_key_prefix}k", f"{redis_key_prefix}n"
    transaction = redis_sdk_client.multi()
    transaction.set(key, "QUEUED")
    transaction.incrby(counter, 5)
    transaction.get(key)
    transaction.zadd(f"{redis_key_prefix}z", {"m": 2.5})
    transaction.zrange(f"{redis_key_prefix}z", 0, -1, withscores=True)
    assert transaction.exec() == [True, 5, "QUEUED", 1, [("m", 2.5)]]


def test_transaction_reports_a_runtime_error_and_keeps_the_other_writes(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    text, after = f"{redis_key_prefix}text", f"{redis_key_prefix}after"
    redis_sdk_client.set(text, "abc")
    transaction = redis_sdk_client.multi()
    transaction.set(after, "ran")
    transaction.lpush(text, "x")
    transaction.incr(after)
    with pytest.raises(UpstashError, match=r"^WRONGTYPE "):
        transaction.exec()
    # Redis transactions do not roll back: the commands around the failing one applied.
    assert redis_sdk_client.get(after) == "ran"


def test_transaction_with_an_unqueueable_command_runs_nothing(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}never"
    transaction = redis_sdk_client.multi()
    transaction.set(key, "written")
    transaction.execute(["NOSUCHCOMMAND"])
    with pytest.raises(UpstashError, match=r"^EXECABORT .*unknown command"):
        transaction.exec()
    assert redis_sdk_client.get(key) is None


def test_transaction_with_a_refused_command_runs_nothing(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}never"
    transaction = redis_sdk_client.multi()
    transaction.set(key, "written")
    transaction.execute(["BLPOP", f"{redis_key_prefix}list", "1"])
    with pytest.raises(UpstashError, match=r"^EXECABORT .*BLPOP"):
        transaction.exec()
    assert redis_sdk_client.get(key) is None


def test_eval_with_keys_and_arguments(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    queue, claims = f"{redis_key_prefix}queue", f"{redis_key_prefix}claims"
    redis_sdk_client.rpush(queue, "job-1", "job-2")
    assert redis_sdk_client.eval(CLAIM_SCRIPT, [queue, claims], ["worker-a"]) == ["job-1", 1]
    assert redis_sdk_client.eval(CLAIM_SCRIPT, [queue, claims], ["worker-b"]) == ["job-2", 2]
    assert redis_sdk_client.eval(CLAIM_SCRIPT, [queue, claims], ["worker-c"]) is None
    assert redis_sdk_client.hgetall(claims) == {"job-1": "worker-a", "job-2": "worker-b"}


def test_eval_results_of_every_reply_type(redis_sdk_client: Redis) -> None:
    assert redis_sdk_client.eval("return redis.status_reply('PONG')") == "PONG"
    assert redis_sdk_client.eval("return redis.status_reply('OK')") == "OK"
    assert redis_sdk_client.eval("return 3.99") == 3  # Lua numbers become integers
    nested = redis_sdk_client.eval("return {1, 'two', {'three'}, false}")
    assert nested == [1, "two", ["three"], None]  # Lua false becomes a null reply
    with pytest.raises(UpstashError, match=r"^MYCODE custom failure"):
        redis_sdk_client.eval("return redis.error_reply('MYCODE custom failure')")
    with pytest.raises(UpstashError, match=r"^ERR "):
        redis_sdk_client.eval("return redis.call('NOSUCHCOMMAND')")


def test_script_load_then_evalsha(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    queue, claims = f"{redis_key_prefix}queue", f"{redis_key_prefix}claims"
    sha = redis_sdk_client.script_load(CLAIM_SCRIPT)
    assert sha == hashlib.sha1(CLAIM_SCRIPT.encode()).hexdigest()  # noqa: S324
    assert redis_sdk_client.script_exists(sha) == [True]
    redis_sdk_client.rpush(queue, "job-1")
    assert redis_sdk_client.evalsha(sha, [queue, claims], ["worker-a"]) == ["job-1", 1]


def test_evalsha_of_an_unknown_script_raises_noscript(redis_sdk_client: Redis) -> None:
    unknown = hashlib.sha1(b"-- a script nobody loaded").hexdigest()  # noqa: S324
    with pytest.raises(UpstashError, match=r"^NOSCRIPT "):
        redis_sdk_client.evalsha(unknown, [], [])


@pytest.mark.parametrize(
    "command",
    [
        ["BLPOP", "{prefix}list", "1"],
        ["BRPOPLPUSH", "{prefix}list", "{prefix}other", "1"],
        ["BZPOPMIN", "{prefix}zset", "1"],
        ["XREAD", "BLOCK", "1000", "STREAMS", "{prefix}stream", "$"],
        ["WAIT", "1", "1000"],
        ["SUBSCRIBE", "{prefix}channel"],
        ["MONITOR"],
        ["SELECT", "1"],
        ["MULTI"],
        ["CLIENT", "PAUSE", "1000"],
    ],
    ids=lambda command: " ".join(command[:2]).replace("{prefix}", ""),
)
def test_blocking_streaming_and_stateful_commands_are_refused(
    redis_sdk_client: Redis, redis_key_prefix: str, command: list[str]
) -> None:
    sent = [argument.replace("{prefix}", redis_key_prefix) for argument in command]
    with pytest.raises(UpstashError, match=rf"^ERR command '{command[0]}.*' is not supported"):
        redis_sdk_client.execute(sent)
    assert redis_sdk_client.ping() == "PONG"  # the endpoint is still serving


def test_non_blocking_xread_is_not_refused(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    stream = f"{redis_key_prefix}stream"
    redis_sdk_client.execute(["XADD", stream, "1-1", "field", "value"])
    assert redis_sdk_client.execute(["XREAD", "COUNT", "5", "STREAMS", stream, "0"]) == [
        [stream, [["1-1", ["field", "value"]]]]
    ]
