"""The REST wire format itself, checked with plain HTTP where the SDK would hide it."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.integration.devstack.redis_fixtures import RedisRestServer

pytestmark = pytest.mark.timeout(20)

BASE64 = {"Upstash-Encoding": "base64"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _result(http: httpx.Client, command: list[object], **headers: str) -> object:
    response = http.post("/", json=command, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_base64_encodes_every_string_except_ok(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key, items = f"{redis_key_prefix}k", f"{redis_key_prefix}items"
    assert _result(redis_rest_http, ["SET", key, "PONG"], **BASE64) == "OK"
    assert _result(redis_rest_http, ["GET", key], **BASE64) == _b64("PONG")
    assert _result(redis_rest_http, ["PING"], **BASE64) == _b64("PONG")
    assert _result(redis_rest_http, ["ECHO", "QUEUED"], **BASE64) == _b64("QUEUED")
    assert _result(redis_rest_http, ["TYPE", key], **BASE64) == _b64("string")
    assert _result(redis_rest_http, ["INCR", f"{redis_key_prefix}n"], **BASE64) == 1
    assert _result(redis_rest_http, ["GET", f"{redis_key_prefix}missing"], **BASE64) is None
    _result(redis_rest_http, ["RPUSH", items, "a", "é"])
    assert _result(redis_rest_http, ["LRANGE", items, 0, -1], **BASE64) == [_b64("a"), _b64("é")]
    nested = _result(redis_rest_http, ["EVAL", "return {1, {'x', 2}}", 0], **BASE64)
    assert nested == [1, [_b64("x"), 2]]


def test_a_stored_ok_is_sent_as_plain_ok_in_base64_mode(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    # RESP2 as read by the client library cannot tell this bulk "OK" from the status OK; the
    # SDK decodes both spellings to "OK", so the value still round-trips.
    key = f"{redis_key_prefix}k"
    _result(redis_rest_http, ["SET", key, "OK"])
    assert _result(redis_rest_http, ["GET", key], **BASE64) == "OK"
    _result(redis_rest_http, ["SET", key, "OK!"])
    assert _result(redis_rest_http, ["GET", key], **BASE64) == _b64("OK!")


def test_without_the_header_strings_are_plain_text(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key, items = f"{redis_key_prefix}k", f"{redis_key_prefix}items"
    assert _result(redis_rest_http, ["SET", key, "héllo"]) == "OK"
    assert _result(redis_rest_http, ["GET", key]) == "héllo"
    assert _result(redis_rest_http, ["PING"]) == "PONG"
    _result(redis_rest_http, ["RPUSH", items, "a", "b"])
    assert _result(redis_rest_http, ["LRANGE", items, 0, -1]) == ["a", "b"]


def test_json_numbers_and_booleans_become_redis_strings(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key, zset = f"{redis_key_prefix}k", f"{redis_key_prefix}z"
    cases = [(b"10", "10"), (b"-2.50", "-2.50"), (b"1e3", "1e3"), (b"true", "true")]
    for sent, stored in cases:
        body = b'["SET", "' + key.encode() + b'", ' + sent + b"]"
        assert redis_rest_http.post("/", content=body).json() == {"result": "OK"}
        assert _result(redis_rest_http, ["GET", key]) == stored
    body = b'["ZADD", "' + zset.encode() + b'", Infinity, "top", -Infinity, "bottom"]'
    assert redis_rest_http.post("/", content=body).json() == {"result": 2}
    assert _result(redis_rest_http, ["ZRANGE", zset, 0, -1, "WITHSCORES"]) == [
        "bottom",
        "-inf",
        "top",
        "inf",
    ]


def test_errors_are_400_with_the_redis_prefix(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}k"
    _result(redis_rest_http, ["SET", key, "text"])
    for command, prefix in [
        (["LPUSH", key, "x"], "WRONGTYPE "),
        (["INCR", key], "ERR "),
        (["EVALSHA", "0" * 40, 0], "NOSCRIPT "),
        (["BLPOP", key, 1], "ERR command 'BLPOP' is not supported"),
    ]:
        response = redis_rest_http.post("/", json=command, headers=BASE64)
        assert response.status_code == 400
        body = response.json()
        assert set(body) == {"error"}
        assert body["error"].startswith(prefix)


def test_pipeline_and_transaction_answer_one_item_per_command(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}k"
    commands = [["SET", key, "v"], ["LPUSH", key, "x"], ["GET", key], ["BLPOP", key, 1]]
    pipeline = redis_rest_http.post("/pipeline", json=commands, headers=BASE64)
    assert pipeline.status_code == 200
    [ok, wrongtype, value, refused] = pipeline.json()
    assert ok == {"result": "OK"}
    assert wrongtype["error"].startswith("WRONGTYPE ")
    assert value == {"result": _b64("v")}
    assert refused["error"].startswith("ERR command 'BLPOP' is not supported")

    transaction = redis_rest_http.post("/multi-exec", json=commands[:3], headers=BASE64)
    assert transaction.status_code == 200
    [ok, wrongtype, value] = transaction.json()
    assert ok == {"result": "OK"}
    assert wrongtype["error"].startswith("WRONGTYPE ")
    assert value == {"result": _b64("v")}


def test_sync_token_changes_on_every_write_and_only_then(
    redis_rest_http: httpx.Client, redis_key_prefix: str
) -> None:
    key = f"{redis_key_prefix}k"

    def token_after(path: str, body: list[object]) -> str:
        response = redis_rest_http.post(path, json=body, headers={"Upstash-Sync-Token": "0"})
        token = response.headers["Upstash-Sync-Token"]
        assert token
        return token

    seen = [token_after("/", ["GET", key])]
    assert token_after("/", ["EXISTS", key]) == seen[-1]
    writes: list[tuple[str, list[object]]] = [
        ("/", ["SET", key, "1"]),
        ("/", ["INCR", key]),
        ("/pipeline", [["GET", key], ["DEL", key]]),
        ("/multi-exec", [["SET", key, "2"], ["GET", key]]),
        ("/", ["EVAL", "return 1", 0]),
    ]
    for path, write in writes:
        token = token_after(path, write)
        assert token not in seen, f"{write} did not change the sync token"
        seen.append(token)
        assert token_after("/pipeline", [["GET", key], ["TTL", key]]) == token


MALFORMED_COMMANDS = {
    "not-json": b"SET k v",
    "empty-body": b"",
    "object": b'{"command": ["GET", "k"]}',
    "string": b'"GET"',
    "empty-array": b"[]",
    "null-argument": b'["SET", "k", null]',
    "array-argument": b'["SET", "k", ["v"]]',
    "object-argument": b'["SET", "k", {"v": 1}]',
    "invalid-utf8": b'["SET", "k", "\xff"]',
    "lone-surrogate": b'["SET", "k", "\\ud800"]',
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
}
MALFORMED_BATCHES = {
    "flat": b'["GET", "k"]',
    "empty": b"[]",
    "empty-command": b"[[]]",
    "string-command": b'[["GET", "k"], "PING"]',
    "not-json": b"[[",
}


@pytest.mark.parametrize(
    ("path", "body"),
    [*(("/", body) for body in MALFORMED_COMMANDS.values())]
    + [
        (path, body) for path in ("/pipeline", "/multi-exec") for body in MALFORMED_BATCHES.values()
    ],
    ids=[*MALFORMED_COMMANDS]
    + [f"{path[1:]}-{name}" for path in ("/pipeline", "/multi-exec") for name in MALFORMED_BATCHES],
)
def test_malformed_requests_are_400_with_a_clear_error(
    redis_rest_http: httpx.Client, path: str, body: bytes
) -> None:
    response = redis_rest_http.post(path, content=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("ERR malformed request: ")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Basic bG9uZ2hhdWw6eA==", "longhaul-local-redis-token"],
    ids=["missing", "wrong", "basic", "no-scheme"],
)
@pytest.mark.parametrize("path", ["/", "/pipeline", "/multi-exec", "/get/k"])
def test_requests_without_the_bearer_token_are_401(
    redis_rest_server: RedisRestServer, authorization: str | None, path: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = httpx.post(f"{redis_rest_server.url}{path}", json=["PING"], headers=headers)
    assert response.status_code == 401
    assert "Unauthorized" in response.json()["error"]


def test_path_form(redis_rest_http: httpx.Client, redis_key_prefix: str) -> None:
    key = f"{redis_key_prefix}a/b c"
    path_key = key.replace("/", "%2F").replace(" ", "%20")
    assert redis_rest_http.get(f"/set/{path_key}/v1").json() == {"result": "OK"}
    assert redis_rest_http.get(f"/get/{path_key}").json() == {"result": "v1"}
    assert redis_rest_http.post(f"/set/{path_key}?EX=100", content=b"from body").json() == {
        "result": "OK"
    }
    assert _result(redis_rest_http, ["GET", key]) == "from body"
    assert 90 <= _result(redis_rest_http, ["TTL", key]) <= 100  # type: ignore[operator]
    assert redis_rest_http.get("/ping", headers=BASE64).json() == {"result": _b64("PONG")}
    wrongtype = redis_rest_http.get(f"/lpush/{path_key}/x")
    assert wrongtype.status_code == 400
    assert wrongtype.json()["error"].startswith("WRONGTYPE ")


def test_other_http_failures_are_json_errors(redis_rest_http: httpx.Client) -> None:
    wrong_method = redis_rest_http.put("/", json=["PING"])
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"].startswith("ERR ")


@pytest.mark.parametrize("command", [["SUBSCRIBE", "channel"], ["MONITOR"], ["BLPOP", "k", 0]])
def test_commands_that_would_hang_are_refused_at_once(
    redis_rest_http: httpx.Client, command: list[object]
) -> None:
    # The client's 5 s timeout fails this test if the command reaches Redis and hangs.
    response = redis_rest_http.post("/", json=command)
    assert response.status_code == 400
    assert "is not supported over REST" in response.json()["error"]
