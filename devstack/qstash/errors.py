"""The one exception type the request handlers turn into a QStash-shaped error response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


class ApiError(Exception):
    """A client-facing failure: answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    """A 400 for input the server cannot understand."""
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    """A 404 for an id or name that does not exist."""
    return ApiError(404, message)


def found(items: Mapping[str, T], key: str, what: str) -> T:
    """`items[key]`, or a QStash-shaped 404 naming `what` when there is no such item."""
    item = items.get(key)
    if item is None:
        raise not_found(f"{what} {key!r} not found")
    return item
