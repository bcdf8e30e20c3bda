"""Lua script flags that Upstash accepts and Redis refuses.

Upstash's servers understand `#!lua flags=allow-key-locking` (upstash-ratelimit 1.2 sends it);
Redis 7 rejects any flag it does not know. The endpoint removes such flags before a script
reaches Redis and remembers the hash the client knows the script by, so that EVALSHA with the
client's hash finds it and SCRIPT LOAD answers the hash the client computed.

The embedded Redis (fakeredis) cannot parse a shebang at all, so for it the whole line goes (an
empty line keeps error line numbers right) and script flags are not enforced there.
"""

from __future__ import annotations

import hashlib

from devstack.redis_rest.request_body import Command

UPSTASH_ONLY_FLAGS = frozenset({b"allow-key-locking"})
_SHEBANG = b"#!lua"


def _sha1(script: bytes) -> bytes:
    return hashlib.sha1(script, usedforsecurity=False).hexdigest().encode()


def _without_upstash_flags(script: bytes, *, drop_shebang: bool) -> bytes:
    first_line, newline, body = script.partition(b"\n")
    if not first_line.startswith(_SHEBANG):
        return script
    if drop_shebang:
        return newline + body
    words = []
    for word in first_line.split():
        if word.startswith(b"flags="):
            kept = [f for f in word[6:].split(b",") if f and f not in UPSTASH_ONLY_FLAGS]
            if not kept:
                continue
            word = b"flags=" + b",".join(kept)
        words.append(word)
    return b" ".join(words) + newline + body


class ScriptFlagTranslator:
    """Rewrites scripts in commands and maps the client's script hashes to Redis's."""

    def __init__(self, *, drop_shebang: bool = False) -> None:
        self._drop_shebang = drop_shebang
        self._redis_sha: dict[bytes, bytes] = {}

    def _script(self, script: bytes) -> bytes:
        rewritten = _without_upstash_flags(script, drop_shebang=self._drop_shebang)
        if rewritten != script:
            self._redis_sha[_sha1(script)] = _sha1(rewritten)
        return rewritten

    def command(self, command: Command) -> Command:
        """`command` as Redis must receive it."""
        name = command[0].upper()
        if name in (b"EVAL", b"EVAL_RO") and len(command) > 1:
            return (command[0], self._script(command[1]), *command[2:])
        if name == b"SCRIPT" and len(command) > 2 and command[1].upper() == b"LOAD":
            return (command[0], command[1], self._script(command[2]), *command[3:])
        if name in (b"EVALSHA", b"EVALSHA_RO") and len(command) > 1:
            return (command[0], self._redis_sha.get(command[1].lower(), command[1]), *command[2:])
        return command

    @staticmethod
    def client_sha(command: Command) -> bytes | None:
        """For SCRIPT LOAD, the hash the client computed for its own script (else None)."""
        loads = len(command) > 2 and command[0].upper() == b"SCRIPT"
        return _sha1(command[2]) if loads and command[1].upper() == b"LOAD" else None
