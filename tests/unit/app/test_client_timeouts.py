"""Every backend call is bounded: the SDKs' own defaults are no timeout and ten minutes.

Both clients get their bound by replacing the SDK's private httpx client, so an SDK upgrade that
renames it would silently bring the defaults back: these tests catch that.
"""

from __future__ import annotations

import httpx

from chalicelib.queue.qstash_client import qstash_client
from chalicelib.redis_client import upstash_redis_client
from chalicelib.settings import Settings

SETTINGS = Settings.model_validate(
    {
        "QSTASH_TOKEN": "token",
        "UPSTASH_REDIS_REST_URL": "http://127.0.0.1:8079",
        "UPSTASH_REDIS_REST_TOKEN": "token",
        "BACKEND_TIMEOUT_SECONDS": "2.5",
    }
)


def _timeouts(client: httpx.Client) -> set[float | None]:
    timeout = client.timeout
    return {timeout.connect, timeout.read, timeout.write, timeout.pool}


def test_the_qstash_client_is_bounded_and_does_not_retry_on_its_own() -> None:
    client = qstash_client(SETTINGS)
    assert _timeouts(client.http._client) == {2.5}
    assert client.http._retry["retries"] == 0


def test_the_redis_client_is_bounded_and_does_not_retry_on_its_own() -> None:
    client = upstash_redis_client(SETTINGS)
    assert _timeouts(client._http._client) == {2.5}
    assert client._http._retries == 0
