"""Exact integer splits and readable amounts."""

from __future__ import annotations

import random

import pytest

from chalicelib.scenarios.money import format_cents, split_proportionally


@pytest.mark.parametrize(
    ("total", "count"),
    [(1, 1), (3, 3), (10, 3), (999, 17), (1_000_001, 2), (123_456_789, 500), (500, 500)],
)
def test_a_split_is_positive_and_exact(total: int, count: int) -> None:
    rng = random.Random(f"{total}-{count}")
    weights = [rng.randint(1, 1_000) for _ in range(count)]
    parts = split_proportionally(total, weights)
    assert len(parts) == count
    assert sum(parts) == total
    assert min(parts) >= 1


def test_a_split_follows_the_weights() -> None:
    assert split_proportionally(1_000, [1, 1, 2]) == [250, 250, 500]
    # One cent left over goes to the largest remainder, the earlier part on a tie.
    assert split_proportionally(10, [1, 1, 1]) == [4, 3, 3]


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [(2, [1, 1, 1], "cannot split 2 into 3"), (5, [], "zero parts"), (5, [1, 0], "positive")],
)
def test_impossible_splits_are_refused(total: int, weights: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_proportionally(total, weights)


@pytest.mark.parametrize(
    ("cents", "signed", "text"),
    [
        (123_456, False, "1,234.56 EUR"),
        (-5, False, "-0.05 EUR"),
        (0, True, "0.00 EUR"),
        (100, True, "+1.00 EUR"),
        (-100_000_000, True, "-1,000,000.00 EUR"),
    ],
)
def test_amounts_read_as_money(cents: int, signed: bool, text: str) -> None:
    assert format_cents(cents, "EUR", signed=signed) == text
