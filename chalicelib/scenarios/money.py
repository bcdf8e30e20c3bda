"""Integer arithmetic on money: exact proportional splits and readable amounts."""

from __future__ import annotations

from collections.abc import Sequence


def split_proportionally(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` into one positive integer part per weight, proportionally, summing exactly.

    Every part gets one unit first, so no event is ever worth nothing; the rest is shared by
    weight, and the units lost to rounding go to the largest remainders (ties to the earlier
    part), so the result is deterministic and reconciles exactly.
    """
    count = len(weights)
    if count == 0:
        raise ValueError("cannot split into zero parts")
    if total < count:
        raise ValueError(f"cannot split {total} into {count} positive parts")
    if min(weights) <= 0:
        raise ValueError("weights must be positive")
    spare = total - count
    weight_sum = sum(weights)
    parts = [1 + spare * weight // weight_sum for weight in weights]
    short = total - sum(parts)
    if short:
        by_remainder = sorted(
            range(count), key=lambda index: (-(spare * weights[index] % weight_sum), index)
        )
        for index in by_remainder[:short]:
            parts[index] += 1
    return parts


def format_cents(cents: int, currency: str, *, signed: bool = False) -> str:
    """`123456` as "1,234.56 EUR"; with `signed`, positive amounts get a "+"."""
    sign = "-" if cents < 0 else ("+" if signed and cents > 0 else "")
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units:,}.{rest:02d} {currency}"
