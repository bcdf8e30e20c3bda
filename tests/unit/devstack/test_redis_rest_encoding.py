"""The pure encodings of the Redis REST endpoint: replies to JSON, JSON to Redis arguments."""

from __future__ import annotations

import base64

import pytest
from upstash_redis.http import decode as sdk_decode

from devstack.redis_rest.encoding import encode_reply, encode_string, outcome_body, wants_base64
from devstack.redis_rest.replies import Reply, ReplyError, discarded_transaction
from devstack.redis_rest.request_body import (
    MalformedRequest,
    command_argument,
    command_from_path,
    parse_batch_body,
    parse_command_body,
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [("base64", True), ("BASE64", True), (" base64 ", True), ("", False), (None, False)],
)
def test_wants_base64(header: str | None, expected: bool) -> None:
    assert wants_base64(header) is expected


def test_base64_encodes_every_string_but_ok() -> None:
    assert encode_string(b"PONG", base64_strings=True) == _b64(b"PONG")
    assert encode_string(b"QUEUED", base64_strings=True) == _b64(b"QUEUED")
    assert encode_string(b"OK", base64_strings=True) == "OK"
    assert encode_string(b"ok", base64_strings=True) == _b64(b"ok")
    assert encode_string(b"OK ", base64_strings=True) == _b64(b"OK ")
    assert encode_string(b"", base64_strings=True) == ""
    assert encode_string(b"\xff\x00\xfe", base64_strings=True) == _b64(b"\xff\x00\xfe")


def test_plain_strings_are_text_with_invalid_utf8_replaced() -> None:
    assert encode_string("héllo".encode(), base64_strings=False) == "héllo"
    assert encode_string(b"OK", base64_strings=False) == "OK"
    assert encode_string(b"bad \xff byte", base64_strings=False) == "bad \ufffd byte"


def test_arrays_are_encoded_recursively_and_numbers_and_nulls_left_alone() -> None:
    reply: Reply = [b"a", 1, None, [b"OK", [b"deep", -7]], ReplyError("ERR inner")]
    assert encode_reply(reply, base64_strings=True) == [
        _b64(b"a"),
        1,
        None,
        ["OK", [_b64(b"deep"), -7]],
        _b64(b"ERR inner"),
    ]
    assert encode_reply(reply, base64_strings=False) == [
        "a",
        1,
        None,
        ["OK", ["deep", -7]],
        "ERR inner",
    ]
    assert encode_reply(12345678901234567890, base64_strings=True) == 12345678901234567890
    assert encode_reply(None, base64_strings=True) is None


@pytest.mark.parametrize(
    "value",
    ["OK", "PONG", "QUEUED", "", "T0s=", "ok", " OK", "héllo 🚀", "a\x00b\r\n", "=" * 7],
)
def test_what_the_sdk_decodes_is_what_redis_answered(value: str) -> None:
    reply: Reply = [value.encode(), [value.encode()]]
    assert sdk_decode(encode_reply(value.encode(), base64_strings=True)) == value
    assert sdk_decode(encode_reply(reply, base64_strings=True)) == [value, [value]]


def test_outcome_bodies() -> None:
    assert outcome_body(b"PONG", base64_strings=True) == {"result": _b64(b"PONG")}
    assert outcome_body(None, base64_strings=True) == {"result": None}
    # Errors are never encoded: the SDK reads them before decoding anything.
    assert outcome_body(ReplyError("WRONGTYPE bad"), base64_strings=True) == {
        "error": "WRONGTYPE bad"
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("text", b"text"), ("日本", "日本".encode()), (True, b"true"), (False, b"false"), ("", b"")],
)
def test_command_arguments(value: object, expected: bytes) -> None:
    assert command_argument(value, 1) == expected


@pytest.mark.parametrize("value", [None, [], {}, ["x"], {"a": 1}, "\ud800"])
def test_arguments_without_a_redis_string_form_are_malformed(value: object) -> None:
    with pytest.raises(MalformedRequest, match="argument 2"):
        command_argument(value, 2)


def test_json_numbers_keep_the_text_they_were_sent_with() -> None:
    body = b'["ZADD", "k", 1.50, "a", 10, "b", -2e3, "c", Infinity, "d", -Infinity, "e"]'
    assert parse_command_body(body) == (
        b"ZADD",
        b"k",
        b"1.50",
        b"a",
        b"10",
        b"b",
        b"-2e3",
        b"c",
        b"inf",
        b"d",
        b"-inf",
        b"e",
    )


def test_batches() -> None:
    assert parse_batch_body(b'[["SET", "k", 1], ["GET", "k"]]') == [
        (b"SET", b"k", b"1"),
        (b"GET", b"k"),
    ]
    with pytest.raises(MalformedRequest, match="command 1"):
        parse_batch_body(b'[["GET", "k"], []]')


@pytest.mark.parametrize(
    "body", [b"", b"   ", b"nope", b"{}", b"[]", b'"GET"', b"[1, null]", b"\xff", b"[" * 50_000]
)
def test_malformed_command_bodies(body: bytes) -> None:
    with pytest.raises(MalformedRequest) as raised:
        parse_command_body(body)
    assert raised.value.message.startswith("ERR malformed request: ")


def test_path_form() -> None:
    assert command_from_path("/set/a%2Fb/v%20w", [], b"") == (b"set", b"a/b", b"v w")
    assert command_from_path("/set/k", [("EX", "100"), ("NX", "")], b"body") == (
        b"set",
        b"k",
        b"body",
        b"EX",
        b"100",
        b"NX",
    )
    assert command_from_path("/get/%FF", [], b"") == (b"get", b"\xff")
    with pytest.raises(MalformedRequest, match="no command"):
        command_from_path("//", [], b"")


def test_a_discarded_transaction_names_the_first_rejection_everywhere() -> None:
    unknown = ReplyError("ERR unknown command 'NOPE'")
    refused = ReplyError("ERR command 'BLPOP' is not supported over REST")
    answers = discarded_transaction([None, unknown, None, refused])
    assert answers[1] == unknown
    assert answers[3] == refused
    for aborted in (answers[0], answers[2]):
        assert isinstance(aborted, ReplyError)
        assert aborted.message.startswith("EXECABORT Transaction discarded")
        assert "command 2: ERR unknown command 'NOPE'" in aborted.message
