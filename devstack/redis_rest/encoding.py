"""Turn Redis replies into the JSON bodies the Upstash REST API answers with.

With `Upstash-Encoding: base64` every string in a result is base64-encoded, arrays recursively,
except the status reply `OK`, which the SDK recognises as is; integers and nulls stay as they are.
Without the header strings are sent as text.

RESP2 replies reach us without the simple-string/bulk-string distinction, so any string whose
bytes are exactly `OK` is sent as the plain `OK`, a bulk string holding "OK" included. The SDK
decodes both forms to the same "OK", so only a client that reads the raw body could notice.
"""

from __future__ import annotations

import base64
from typing import TypeAlias

from devstack.redis_rest.replies import Reply, ReplyError

JsonValue: TypeAlias = str | int | list["JsonValue"] | None
OutcomeBody: TypeAlias = dict[str, JsonValue]

ENCODING_HEADER = "Upstash-Encoding"
_UNENCODED_STATUS = b"OK"


def wants_base64(encoding_header: str | None) -> bool:
    """Whether the `Upstash-Encoding` request header asks for base64-encoded results."""
    return (encoding_header or "").strip().lower() == "base64"


def encode_string(value: bytes, *, base64_strings: bool) -> str:
    """One string of a result: base64 (except `OK`) or text, invalid UTF-8 replaced in text."""
    if not base64_strings:
        return value.decode("utf-8", errors="replace")
    if value == _UNENCODED_STATUS:
        return "OK"
    return base64.b64encode(value).decode("ascii")


def encode_reply(reply: Reply, *, base64_strings: bool) -> JsonValue:
    """The JSON form of a successful reply.

    An error nested in an array (an EXEC result, a Lua table) becomes its message string, since
    only the top level of an Upstash answer has room for an `error` field.
    """
    if isinstance(reply, bytes):
        return encode_string(reply, base64_strings=base64_strings)
    if isinstance(reply, ReplyError):
        return encode_string(reply.message.encode(), base64_strings=base64_strings)
    if isinstance(reply, list):
        return [encode_reply(item, base64_strings=base64_strings) for item in reply]
    return reply


def outcome_body(reply: Reply, *, base64_strings: bool) -> OutcomeBody:
    """`{"error": message}` for an error reply (never encoded), else `{"result": ...}`."""
    if isinstance(reply, ReplyError):
        return {"error": reply.message}
    return {"result": encode_reply(reply, base64_strings=base64_strings)}
