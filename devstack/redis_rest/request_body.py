"""Read Redis commands out of REST requests: JSON bodies and the `/set/key/value` path form."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeAlias
from urllib.parse import unquote_to_bytes

# One command as sent to Redis: the name, then the arguments, all as byte strings.
Command: TypeAlias = tuple[bytes, ...]

# The SDK serialises Python's infinities and NaN with json.dumps, which writes them as these
# non-standard tokens; Redis spells them `inf`, `-inf` and `nan`.
_JSON_CONSTANTS = {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}


class MalformedRequest(ValueError):
    """A request that does not describe a command; answered with a 400 and `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = f"ERR malformed request: {message}"


def _load_json(body: bytes) -> object:
    if not body.strip():
        raise MalformedRequest('the body is empty; send a JSON array such as ["GET", "key"]')
    try:
        # Numbers keep the exact text they were sent with: Redis receives "1.50" as "1.50".
        return json.loads(
            body,
            parse_int=str,
            parse_float=str,
            parse_constant=_JSON_CONSTANTS.__getitem__,
        )
    except RecursionError as exc:
        raise MalformedRequest("the JSON body is nested too deeply") from exc
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON ({exc})") from exc


def command_argument(value: object, position: int) -> bytes:
    """One JSON array element as a Redis argument: strings as UTF-8, booleans as true/false.

    Numbers are already text here (see `_load_json`); nulls, arrays and objects have no Redis
    string form, so they are refused rather than guessed at.
    """
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedRequest(f"argument {position} is not valid Unicode text") from exc
    kind = "null" if value is None else type(value).__name__
    raise MalformedRequest(
        f"argument {position} is {kind}; arguments must be strings, numbers or booleans"
    )


def _as_command(value: object, where: str) -> Command:
    if not isinstance(value, list):
        raise MalformedRequest(f"{where} must be a JSON array of strings, numbers or booleans")
    if not value:
        raise MalformedRequest(f"{where} is an empty array; it needs at least a command name")
    return tuple(command_argument(item, position) for position, item in enumerate(value))


def parse_command_body(body: bytes) -> Command:
    """The single command of a `POST /` body: a JSON array like `["SET", "k", "v", "EX", 100]`."""
    return _as_command(_load_json(body), "the body")


def parse_batch_body(body: bytes) -> list[Command]:
    """The commands of a `/pipeline` or `/multi-exec` body: a non-empty array of commands."""
    batch = _load_json(body)
    if not isinstance(batch, list) or not batch:
        raise MalformedRequest("the body must be a non-empty JSON array of commands (arrays)")
    return [_as_command(item, f"command {index}") for index, item in enumerate(batch)]


def command_from_path(raw_path: str, query: Iterable[tuple[str, str]], body: bytes) -> Command:
    """The command of the path form: `/set/key/value?EX=100`; a POST body follows the path.

    Segments are percent-decoded one by one, so an encoded `/` stays inside its argument and any
    bytes can be sent. Query parameters come last, each adding its name, then its value when it
    has one: `POST /set/key?EX=100` with body `v` is `SET key v EX 100`.
    """
    arguments = [unquote_to_bytes(segment) for segment in raw_path.lstrip("/").split("/")]
    if body:
        arguments.append(body)
    for name, value in query:
        arguments.append(command_argument(name, len(arguments)))
        if value:
            arguments.append(command_argument(value, len(arguments)))
    if arguments == [b""]:
        raise MalformedRequest("the path names no command")
    return tuple(arguments)
