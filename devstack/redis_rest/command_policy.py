"""Which commands the endpoint refuses, and which ones cannot change data.

Each request borrows a pooled connection for one exchange, so a command that blocks, streams
replies or changes the connection's state would hang the request or leak into the next one.
They are refused with an error instead, before reaching either backend.
"""

from __future__ import annotations

from devstack.redis_rest.request_body import Command

_BLOCKING = "blocks until data arrives, which would hold the HTTP request open"
_STREAMING = "streams replies over a dedicated connection, which HTTP requests do not have"
_CONNECTION_STATE = "changes per-connection state, which does not survive between HTTP requests"
_SERVER_CONTROL = "controls the server itself and is not offered over REST"

_REFUSED_FAMILIES = (
    (_BLOCKING, b"BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP WAIT WAITAOF"),
    (
        _STREAMING,
        b"SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE MONITOR SYNC PSYNC",
    ),
    (
        _CONNECTION_STATE,
        b"MULTI EXEC DISCARD WATCH UNWATCH SELECT AUTH HELLO RESET QUIT READONLY READWRITE",
    ),
    (_SERVER_CONTROL, b"SHUTDOWN DEBUG REPLICAOF SLAVEOF FAILOVER SWAPDB"),
)
_REFUSED_COMMANDS = {name: reason for reason, names in _REFUSED_FAMILIES for name in names.split()}

_REFUSED_CLIENT_SUBCOMMANDS = {
    b"PAUSE": _SERVER_CONTROL,
    b"REPLY": _CONNECTION_STATE,
    b"TRACKING": _CONNECTION_STATE,
    b"CACHING": _CONNECTION_STATE,
}

# Commands flagged read-only by Redis; anything not listed counts as a possible write, which
# only costs a needless sync-token change when a read is missing from here.
_READ_ONLY_COMMANDS = frozenset(
    b"""
    GET MGET GETRANGE SUBSTR STRLEN LCS GETBIT BITCOUNT BITPOS
    EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN RANDOMKEY DBSIZE DUMP OBJECT MEMORY
    TOUCH PING ECHO TIME INFO LASTSAVE COMMAND SORT_RO
    HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN HSCAN HRANDFIELD
    LRANGE LLEN LINDEX LPOS
    SMEMBERS SISMEMBER SMISMEMBER SCARD SRANDMEMBER SSCAN SINTER SUNION SDIFF SINTERCARD
    ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZREVRANGEBYLEX ZSCORE ZMSCORE
    ZRANK ZREVRANK ZCARD ZCOUNT ZLEXCOUNT ZSCAN ZRANDMEMBER ZINTER ZUNION ZDIFF ZINTERCARD
    XRANGE XREVRANGE XLEN XREAD XINFO XPENDING
    PFCOUNT GEOPOS GEODIST GEOHASH GEOSEARCH GEORADIUS_RO GEORADIUSBYMEMBER_RO
    EVAL_RO EVALSHA_RO FCALL_RO
    """.split()
)


def _has_block_option(command: Command) -> bool:
    # XREAD and XREADGROUP only block with a BLOCK option, which must precede STREAMS.
    for argument in command[1:]:
        option = argument.upper()
        if option == b"STREAMS":
            return False
        if option == b"BLOCK":
            return True
    return False


def refusal(command: Command) -> str | None:
    """The error answered instead of running `command`, or None when it may run."""
    name = command[0].upper()
    reason = _REFUSED_COMMANDS.get(name)
    if reason is None and name == b"CLIENT" and len(command) > 1:
        reason = _REFUSED_CLIENT_SUBCOMMANDS.get(command[1].upper())
    if reason is None and name in {b"XREAD", b"XREADGROUP"} and _has_block_option(command):
        reason = _BLOCKING
    if reason is None:
        return None
    shown = b" ".join(command[:2] if name == b"CLIENT" else command[:1]).decode(errors="replace")
    return f"ERR command '{shown}' is not supported over REST: it {reason}"


def is_read_only(command: Command) -> bool:
    """Whether `command` certainly leaves the data unchanged (unknown commands do not)."""
    return command[0].upper() in _READ_ONLY_COMMANDS
