"""What Redis answered, independent of the client library that read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class ReplyError:
    """An error reply, its code prefix (`ERR`, `WRONGTYPE`, `NOSCRIPT`, ...) kept in `message`."""

    message: str


# RESP2 has no way to tell a simple string from a bulk string once a client library has read it,
# so both are bytes here. An error can sit inside an array (EXEC results, Lua tables).
Reply: TypeAlias = bytes | int | ReplyError | list["Reply"] | None


def discarded_transaction(rejections: Sequence[ReplyError | None]) -> list[Reply]:
    """Per-command answers of a transaction that never ran because some commands were rejected.

    Like Redis's EXECABORT, nothing is executed. Each rejected command keeps its own error and
    every other command reports the abort, naming the first rejection so that a client which
    raises on the first error it sees still learns the cause.
    """
    position, cause = next(
        (index, rejection)
        for index, rejection in enumerate(rejections, start=1)
        if rejection is not None
    )
    aborted = ReplyError(
        "EXECABORT Transaction discarded because of previous errors "
        f"(command {position}: {cause.message})"
    )
    return [aborted if rejection is None else rejection for rejection in rejections]
