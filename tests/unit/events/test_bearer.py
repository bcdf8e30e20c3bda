"""require_bearer: the admin token, or a 401 whatever is wrong."""

from __future__ import annotations

import pytest
from chalice.app import Request
from pydantic import SecretStr

from chalicelib.handlers.bearer import require_bearer
from chalicelib.handlers.http import HttpProblem

TOKEN = SecretStr("s3cret-token")


def _request(authorization: str | None) -> Request:
    headers = {} if authorization is None else {"authorization": authorization}
    return Request(
        {
            "multiValueQueryStringParameters": None,
            "headers": headers,
            "pathParameters": None,
            "requestContext": {"httpMethod": "GET", "resourcePath": "/"},
            "body": None,
            "isBase64Encoded": False,
            "stageVariables": None,
        }
    )


def test_the_right_token_passes() -> None:
    require_bearer(_request("Bearer s3cret-token"), TOKEN)
    require_bearer(_request("bearer s3cret-token"), TOKEN)


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (None, TOKEN),
        ("", TOKEN),
        ("Bearer", TOKEN),
        ("Basic s3cret-token", TOKEN),
        ("Bearer wrong", TOKEN),
        ("Bearer s3cret-token-longer", TOKEN),
        ("Bearer s3cret-token", None),
    ],
)
def test_anything_else_is_401(authorization: str | None, expected: SecretStr | None) -> None:
    with pytest.raises(HttpProblem) as problem:
        require_bearer(_request(authorization), expected)
    assert problem.value.status == 401
