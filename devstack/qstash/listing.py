"""Filtering and cursor pagination shared by the DLQ, log and bulk-cancel endpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from multidict import MultiMapping

from devstack.qstash.errors import bad_request

Item = TypeVar("Item")
# Given an item, the values a query parameter can match it by.
FieldValues = Callable[[Item], Iterable[str | None]]


def query_values(query: MultiMapping[str], name: str) -> list[str]:
    """Every value of `name`, whether repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
    return [
        part.strip()
        for value in query.getall(name, [])
        for part in value.split(",")
        if part.strip()
    ]


def query_int(query: MultiMapping[str], name: str) -> int | None:
    """The integer parameter `name`, None when absent, a 400 when not a number."""
    value = query.get(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise bad_request(f"invalid {name}: {value!r}") from exc


def select(
    items: Iterable[Item],
    query: MultiMapping[str],
    fields: Mapping[str, FieldValues[Item]],
    time_of: Callable[[Item], float],
) -> list[Item]:
    """The items matching every filter in `query`: any of a parameter's values (OR) for each
    parameter given (AND), and `fromDate`/`toDate` (unix ms, inclusive) on `time_of`."""
    wanted = {name: set(query_values(query, name)) for name in fields}
    wanted = {name: values for name, values in wanted.items() if values}
    since = query_int(query, "fromDate")
    until = query_int(query, "toDate")
    selected = []
    for item in items:
        moment = int(time_of(item) * 1000)
        if (since is not None and moment < since) or (until is not None and moment > until):
            continue
        if all(values.intersection(fields[name](item)) for name, values in wanted.items()):
            selected.append(item)
    return selected


def paginate(
    newest_first: Sequence[Item],
    sequence_of: Callable[[Item], int],
    query: MultiMapping[str],
    *,
    default_count: int,
    max_count: int,
) -> tuple[list[Item], str | None]:
    """One page after the `cursor` parameter, and the cursor of the next page if there is one.

    A cursor is the sequence number of the last item returned, so pages stay stable while new
    items arrive at the front.
    """
    count = query_int(query, "count")
    if count is None:
        count = default_count
    if count < 1:
        raise bad_request(f"invalid count: {count}")
    cursor = query_int(query, "cursor")
    remaining = [item for item in newest_first if cursor is None or sequence_of(item) < cursor]
    page = remaining[: min(count, max_count)]
    if len(remaining) > len(page):
        return page, str(sequence_of(page[-1]))
    return page, None
