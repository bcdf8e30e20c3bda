"""Retry delays: 2 s, 4 s, 8 s ... stretched by jitter, never shortened, capped."""

from __future__ import annotations

from random import Random

import pytest

from chalicelib.jobs.backoff import RetryBackoff


class FixedDraw(Random):
    """A random source whose every draw is `value`."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_without_jitter_each_attempt_doubles_the_wait_from_two_seconds() -> None:
    backoff = RetryBackoff()

    assert [backoff.delay_seconds(n, FixedDraw(0.0)) for n in range(1, 6)] == [2, 4, 8, 16, 32]


def test_jitter_stretches_a_delay_by_up_to_its_share() -> None:
    backoff = RetryBackoff(jitter=0.25)

    assert backoff.delay_seconds(1, FixedDraw(0.5)) == pytest.approx(2.25)
    assert backoff.delay_seconds(3, FixedDraw(0.999)) == pytest.approx(8 * 1.24975)


def test_jittered_delays_stay_between_the_nominal_delay_and_its_stretch() -> None:
    backoff, rng = RetryBackoff(jitter=0.5), Random(3)
    for attempt in range(1, 8):
        nominal = 2.0 * 2 ** (attempt - 1)
        delays = {backoff.delay_seconds(attempt, rng) for _ in range(200)}
        assert min(delays) >= nominal
        assert max(delays) < nominal * 1.5
        assert len(delays) > 100  # spread, not one value


def test_delays_are_capped_even_for_huge_attempt_numbers() -> None:
    backoff = RetryBackoff(cap_seconds=300)

    assert backoff.delay_seconds(9, FixedDraw(0.9)) == 300
    assert backoff.delay_seconds(10_000, FixedDraw(0.0)) == 300


def test_the_same_seed_gives_the_same_delays() -> None:
    backoff = RetryBackoff()

    assert [backoff.delay_seconds(2, Random(42)) for _ in range(3)] == [
        backoff.delay_seconds(2, Random(42)) for _ in range(3)
    ]


def test_attempts_are_counted_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        RetryBackoff().delay_seconds(0, Random(1))
