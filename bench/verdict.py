"""How every benchmark ends: the targets it missed, and an exit status CI-style scripts can use."""

from __future__ import annotations

from collections.abc import Sequence


def report_targets(missed: Sequence[str]) -> int:
    """Print which targets were missed (or that all were met); 1 if any was missed, else 0."""
    if missed:
        print(f"missed: {'; '.join(missed)}")
        return 1
    print("all targets met")
    return 0
