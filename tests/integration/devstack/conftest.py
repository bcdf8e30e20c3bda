from tests.integration.devstack.qstash_fixtures import *  # noqa: F403
from tests.integration.devstack.redis_fixtures import *  # noqa: F403
