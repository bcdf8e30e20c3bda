"""Scripts with Upstash-only shebang flags run, as they do on Upstash (upstash-ratelimit 1.2)."""

from __future__ import annotations

import hashlib

import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from tests.integration.devstack.redis_fixtures import RedisRestServer

SCRIPT = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


def test_eval_of_a_script_with_upstash_only_flags_runs(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}counter"
    assert redis_sdk_client.eval(SCRIPT, keys=[key], args=["5"]) == 5
    assert redis_sdk_client.get(key) == "5"


def test_script_load_answers_the_clients_hash_and_evalsha_finds_it(
    redis_sdk_client: Redis, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}counter"
    script = SCRIPT + " -- " + redis_key_prefix  # a script no earlier test has loaded
    assert redis_sdk_client.script_load(script) == _sha(script)
    assert redis_sdk_client.evalsha(_sha(script), keys=[key], args=["2"]) == 2
    assert redis_sdk_client.evalsha(_sha(script), keys=[key], args=["3"]) == 5


def test_flags_redis_knows_are_kept(
    redis_sdk_client: Redis, redis_key_prefix: str, redis_rest_server: RedisRestServer
) -> None:
    if redis_rest_server.backend_kind == "embedded":
        pytest.skip("the embedded Redis (fakeredis) cannot enforce script flags")
    # no-writes stays: the write inside must still be refused by Redis itself.
    script = "#!lua flags=allow-key-locking,no-writes\nreturn redis.call('SET', KEYS[1], 'x')"
    with pytest.raises(UpstashError, match=r"[Ww]rite"):
        redis_sdk_client.eval(script, keys=[f"{redis_key_prefix}k"])
