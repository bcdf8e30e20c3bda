"""The endpoint through the official SDK: every data type the project uses, on both backends."""

from __future__ import annotations

import time

import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from devstack.redis_rest import DEFAULT_TOKEN
from tests.integration.devstack.redis_fixtures import RedisRestServer

pytestmark = pytest.mark.timeout(20)


def test_strings_and_counters(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    key, counter = f"{redis_key_prefix}greeting", f"{redis_key_prefix}counter"
    assert redis_sdk_client.set(key, "hello") is True
    assert redis_sdk_client.set(key, "ignored", nx=True) is False
    assert redis_sdk_client.append(key, " world") == 11
    assert redis_sdk_client.getrange(key, 0, 4) == "hello"
    assert redis_sdk_client.set(key, "replaced", get=True) == "hello world"
    assert redis_sdk_client.get(key) == "replaced"
    assert redis_sdk_client.get(f"{redis_key_prefix}missing") is None
    assert redis_sdk_client.incr(counter) == 1
    assert redis_sdk_client.incrby(counter, 41) == 42
    assert redis_sdk_client.incrbyfloat(counter, 0.5) == 42.5
    first, second = f"{redis_key_prefix}a", f"{redis_key_prefix}b"
    assert redis_sdk_client.mset({first: "1", second: "2"}) is True
    assert redis_sdk_client.mget(first, f"{redis_key_prefix}missing", second) == ["1", None, "2"]
    assert redis_sdk_client.getdel(first) == "1"
    assert redis_sdk_client.exists(first, second) == 1
    assert redis_sdk_client.type(second) == "string"


def test_numbers_and_booleans_arrive_as_redis_strings(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    redis_sdk_client.set(f"{redis_key_prefix}float", 1.5)
    redis_sdk_client.set(f"{redis_key_prefix}int", 7)
    redis_sdk_client.set(f"{redis_key_prefix}bool", True)
    assert redis_sdk_client.get(f"{redis_key_prefix}float") == "1.5"
    assert redis_sdk_client.get(f"{redis_key_prefix}int") == "7"
    assert redis_sdk_client.get(f"{redis_key_prefix}bool") == "true"
    assert redis_sdk_client.incrbyfloat(f"{redis_key_prefix}float", 2) == 3.5


def test_hashes(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    key = f"{redis_key_prefix}job"
    assert redis_sdk_client.hset(key, values={"state": "queued", "attempts": "0"}) == 2
    assert redis_sdk_client.hset(key, "state", "running") == 0
    assert redis_sdk_client.hincrby(key, "attempts", 3) == 3
    assert redis_sdk_client.hget(key, "state") == "running"
    assert redis_sdk_client.hmget(key, "state", "nope") == ["running", None]
    assert redis_sdk_client.hgetall(key) == {"state": "running", "attempts": "3"}
    assert redis_sdk_client.hexists(key, "state") is True
    assert redis_sdk_client.hdel(key, "state") == 1
    assert redis_sdk_client.hgetall(key) == {"attempts": "3"}


def test_sorted_sets(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    key = f"{redis_key_prefix}due"
    assert redis_sdk_client.zadd(key, {"late": 30, "soon": 10, "middle": 20.5}) == 3
    assert redis_sdk_client.zrange(key, 0, -1) == ["soon", "middle", "late"]
    assert redis_sdk_client.zrange(key, 0, 1, withscores=True) == [("soon", 10.0), ("middle", 20.5)]
    assert redis_sdk_client.zrangebyscore(key, "-inf", 20.5) == ["soon", "middle"]
    assert redis_sdk_client.zincrby(key, 100, "soon") == 110.0
    assert redis_sdk_client.zscore(key, "middle") == 20.5
    assert redis_sdk_client.zscore(key, "absent") is None
    assert redis_sdk_client.zrank(key, "soon") == 2
    assert redis_sdk_client.zrem(key, "late") == 1
    assert redis_sdk_client.zcard(key) == 2


def test_lists(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    source, target = f"{redis_key_prefix}pending", f"{redis_key_prefix}working"
    assert redis_sdk_client.rpush(source, "a", "b", "c") == 3
    assert redis_sdk_client.lpush(source, "z") == 4
    assert redis_sdk_client.lrange(source, 0, -1) == ["z", "a", "b", "c"]
    assert redis_sdk_client.lmove(source, target, "RIGHT", "LEFT") == "c"
    assert redis_sdk_client.lpop(source) == "z"
    assert redis_sdk_client.rpop(source, 2) == ["b", "a"]
    assert redis_sdk_client.lpop(source) is None
    assert redis_sdk_client.llen(target) == 1
    assert redis_sdk_client.lindex(target, 0) == "c"


def test_sets(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    first, second = f"{redis_key_prefix}left", f"{redis_key_prefix}right"
    assert redis_sdk_client.sadd(first, "x", "y", "x") == 2
    redis_sdk_client.sadd(second, "y", "z")
    assert sorted(redis_sdk_client.smembers(first)) == ["x", "y"]
    assert redis_sdk_client.sismember(first, "y") is True
    assert redis_sdk_client.sismember(first, "z") is False
    assert redis_sdk_client.sinter(first, second) == ["y"]
    assert redis_sdk_client.srem(first, "x") == 1
    assert redis_sdk_client.scard(first) == 1


def test_expiry(redis_sdk_client: Redis, redis_key_prefix: str) -> None:
    lasting, brief = f"{redis_key_prefix}lasting", f"{redis_key_prefix}brief"
    redis_sdk_client.set(lasting, "v", ex=100)
    assert 90 <= redis_sdk_client.ttl(lasting) <= 100
    assert redis_sdk_client.persist(lasting) is True
    assert redis_sdk_client.ttl(lasting) == -1
    assert redis_sdk_client.expire(lasting, 50) is True
    assert 40_000 <= redis_sdk_client.pttl(lasting) <= 50_000
    assert redis_sdk_client.ttl(f"{redis_key_prefix}missing") == -2
    redis_sdk_client.set(brief, "v", px=100)
    deadline = time.monotonic() + 3
    while redis_sdk_client.get(brief) is not None:
        assert time.monotonic() < deadline, "a key set with PX 100 was still there after 3 s"
        time.sleep(0.05)


@pytest.mark.parametrize(
    "value",
    [
        "OK",
        "PONG",
        "QUEUED",
        "",
        "T0s=",
        "héllo wörld ✓ 🚀 日本語",
        "nul\x00byte, bell\x07, tab\t, newlines\r\n",
        '{"json": ["looking", 1]}',
        "x" * 100_000,
    ],
    ids=["OK", "PONG", "QUEUED", "empty", "base64-of-OK", "unicode", "control", "json", "long"],
)
def test_awkward_values_round_trip(
    redis_sdk_client: Redis, redis_key_prefix: str, value: str
) -> None:
    key = f"{redis_key_prefix}ключ-🔑"
    redis_sdk_client.set(key, value)
    assert redis_sdk_client.get(key) == value
    redis_sdk_client.hset(f"{redis_key_prefix}hash", values={value: value})
    assert redis_sdk_client.hgetall(f"{redis_key_prefix}hash") == {value: value}
    redis_sdk_client.rpush(f"{redis_key_prefix}list", value, "after")
    assert redis_sdk_client.lrange(f"{redis_key_prefix}list", 0, -1) == [value, "after"]
    assert redis_sdk_client.echo(value) == value


def test_redis_errors_raise_upstash_error_with_their_prefix(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}text"
    redis_sdk_client.set(key, "not a number")
    with pytest.raises(UpstashError, match=r"^WRONGTYPE "):
        redis_sdk_client.lpush(key, "x")
    with pytest.raises(UpstashError, match=r"^ERR .*not an integer"):
        redis_sdk_client.incr(key)
    with pytest.raises(UpstashError, match=r"^ERR unknown command"):
        redis_sdk_client.execute(["NOSUCHCOMMAND", key])
    with pytest.raises(UpstashError, match=r"^ERR wrong number of arguments"):
        redis_sdk_client.execute(["GET"])
    assert redis_sdk_client.get(key) == "not a number"


def test_ping(redis_sdk_client: Redis) -> None:
    assert redis_sdk_client.ping() == "PONG"
    assert redis_sdk_client.ping("PONG?") == "PONG?"


@pytest.mark.parametrize(
    "token",
    ["wrong-token", DEFAULT_TOKEN[:-1], f"{DEFAULT_TOKEN}x"],
    ids=["wrong", "cut", "longer"],
)
def test_a_bad_token_is_refused(redis_rest_server: RedisRestServer, token: str) -> None:
    with (
        Redis(url=redis_rest_server.url, token=token, rest_retries=0) as client,
        pytest.raises(UpstashError, match="Unauthorized"),
    ):
        client.get("anything")
