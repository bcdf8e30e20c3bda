"""The `local` stage of .chalice/config.json and the local stack must agree."""

from __future__ import annotations

from devstack.stack import StackOptions
from infra.stage_config import stage_environment


def test_the_local_stage_points_at_the_stacks_default_ports() -> None:
    defaults, env = StackOptions(), stage_environment("local")
    assert env["QSTASH_URL"] == f"http://127.0.0.1:{defaults.qstash_port}"
    assert env["UPSTASH_REDIS_REST_URL"] == f"http://127.0.0.1:{defaults.redis_rest_port}"
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == f"http://127.0.0.1:{defaults.dynamodb_port}"


def test_deployed_stages_never_point_at_the_local_stack() -> None:
    for stage in ("dev", "prod"):
        env = stage_environment(stage)
        assert not any("127.0.0.1" in value for value in env.values()), stage
        assert env["LONGHAUL_STAGE"] == stage


def test_the_local_stage_uses_the_emulators_own_credentials() -> None:
    from devstack.qstash import DEV_CURRENT_SIGNING_KEY, DEV_NEXT_SIGNING_KEY, DEV_TOKEN
    from devstack.redis_rest import DEFAULT_TOKEN

    env = stage_environment("local")
    assert env["UPSTASH_REDIS_REST_TOKEN"] == DEFAULT_TOKEN
    assert env["QSTASH_TOKEN"] == DEV_TOKEN
    assert env["QSTASH_CURRENT_SIGNING_KEY"] == DEV_CURRENT_SIGNING_KEY
    assert env["QSTASH_NEXT_SIGNING_KEY"] == DEV_NEXT_SIGNING_KEY
