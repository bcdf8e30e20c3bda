"""When a failed job runs again: exponential backoff with jitter, computed outside Redis.

The delay is computed in Python (with the queue's injected random source) and handed to the
finish script as a timestamp, so tests can pin it and Lua stays free of randomness.
"""

from __future__ import annotations

from random import Random

from pydantic import BaseModel, ConfigDict, Field


class RetryBackoff(BaseModel):
    """`base * 2**(attempt-1)` seconds (2 s, 4 s, 8 s ...), stretched by up to `jitter`, capped.

    Jitter only lengthens a delay, so a retry never runs before its nominal time; it spreads
    retries of jobs that failed together (a partner outage) instead of retrying them in step.
    """

    model_config = ConfigDict(frozen=True)

    base_seconds: float = Field(default=2.0, gt=0)
    cap_seconds: float = Field(default=300.0, gt=0)
    jitter: float = Field(default=0.25, ge=0, le=1)

    def delay_seconds(self, attempt: int, rng: Random) -> float:
        """The wait before the attempt after `attempt` (1 for the first attempt that failed)."""
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        # The exponent is bounded so a large attempt number cannot overflow the float.
        nominal = self.base_seconds * 2.0 ** min(attempt - 1, 62)
        return min(self.cap_seconds, nominal * (1.0 + self.jitter * rng.random()))
