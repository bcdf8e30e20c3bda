"""After `chalice deploy`: create what Chalice cannot (the table, the worker's Function URL and
where its failed asynchronous invokes go).

    python -m infra.post_deploy --stage dev

Safe to run again. `chalice package --merge-template infra/resources.json` users do not need it:
their template creates the same resources.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from infra.stage_config import stage_environment
from infra.tables import create_tables

# Statement ids let a rerun recognise the permissions it added before.
URL_PERMISSIONS = (
    ("LonghaulFunctionUrlPublic", "lambda:InvokeFunctionUrl", {"FunctionUrlAuthType": "NONE"}),
    ("LonghaulFunctionUrlInvoke", "lambda:InvokeFunction", {"InvokedViaFunctionUrl": True}),
)


def ensure_function_url(client: Any, function_name: str) -> str:
    """The function's URL (auth NONE: QStash's signature is the authentication), created with
    both permissions a Function URL needs if it does not exist yet."""
    try:
        url = str(client.get_function_url_config(FunctionName=function_name)["FunctionUrl"])
    except client.exceptions.ResourceNotFoundException:
        url = str(
            client.create_function_url_config(FunctionName=function_name, AuthType="NONE")[
                "FunctionUrl"
            ]
        )
    for statement_id, action, condition in URL_PERMISSIONS:
        # A conflict means an earlier run added this permission already.
        with contextlib.suppress(client.exceptions.ResourceConflictException):
            client.add_permission(
                FunctionName=function_name,
                StatementId=statement_id,
                Action=action,
                Principal="*",
                **condition,
            )
    return url


def ensure_failure_destination(client: Any, function_name: str, destination_name: str) -> None:
    """Send the function's failed asynchronous invokes (after Lambda's two retries) to
    `destination_name`, so a dropped fallback run is marked failed rather than lost."""
    destination = client.get_function(FunctionName=destination_name)["Configuration"]
    client.put_function_event_invoke_config(
        FunctionName=function_name,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": destination["FunctionArn"]}},
    )


def main(argv: Sequence[str] | None = None, *, endpoint_url: str | None = None) -> int:
    """Create the stage's tables and the worker's Function URL; print what to configure next."""
    import boto3

    parser = argparse.ArgumentParser(prog="python -m infra.post_deploy", description=__doc__)
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    parser.add_argument("--region", default=None, help="default: the AWS configuration's")
    args = parser.parse_args(argv)

    environment = stage_environment(args.stage)
    session = boto3.session.Session(region_name=args.region)
    tables = create_tables(session.client("dynamodb", endpoint_url=endpoint_url), environment)
    worker = f"longhaul-{args.stage}-worker"
    lambda_client = session.client("lambda", endpoint_url=endpoint_url)
    url = ensure_function_url(lambda_client, worker)
    ensure_failure_destination(lambda_client, worker, f"longhaul-{args.stage}-fallback_failed")
    print(f"tables: {', '.join(tables)}")
    print(f"worker function URL: {url}")
    print(
        f'next: set "WORKER_URL": "{url}" and "PUBLIC_BASE_URL" (the API\'s URL, '
        f"ending in /api) in the {args.stage} stage of .chalice/config.json, then run "
        f"`chalice deploy --stage {args.stage}` again"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
