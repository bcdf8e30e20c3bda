"""An Upstash-REST-compatible Redis endpoint for local development and tests.

It speaks the REST API the `upstash-redis` SDK uses (`POST /`, `/pipeline`, `/multi-exec`, the
`/set/key/value` path form, base64 response encoding, sync tokens) and forwards each command to
a real Redis when one answers at start-up, else to an embedded in-process one.
"""

from devstack.redis_rest.backend import (
    EMBEDDED_DESCRIPTION,
    Backend,
    BackendUnavailable,
    probe_redis,
    select_backend,
)
from devstack.redis_rest.config import (
    DEFAULT_PORT,
    DEFAULT_REDIS_URL,
    DEFAULT_TOKEN,
    RedisRestConfig,
)
from devstack.redis_rest.routes import create_app

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_REDIS_URL",
    "DEFAULT_TOKEN",
    "EMBEDDED_DESCRIPTION",
    "Backend",
    "BackendUnavailable",
    "RedisRestConfig",
    "create_app",
    "probe_redis",
    "select_backend",
]
