"""Reading JSON that arrived from outside: one error for every way it can be unreadable."""

from __future__ import annotations

import json
from typing import Any


class UnreadableJsonError(ValueError):
    """Not one JSON document Python can read: bad UTF-8 or syntax, nested too deeply, or an
    integer longer than Python converts (4,300 digits)."""


def read_json(data: bytes | str) -> Any:
    """The document in `data`; raises `UnreadableJsonError` however it is unreadable."""
    try:
        return json.loads(data)
    except RecursionError as exc:  # thousands of nested brackets fit in a small body
        raise UnreadableJsonError("nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the integer digit limit
        raise UnreadableJsonError(f"{type(exc).__name__}: {exc}") from exc
