"""Admin routes: a bearer token in `Authorization`, compared in constant time."""

from __future__ import annotations

import hmac

from chalice.app import Request
from pydantic import SecretStr

from chalicelib.handlers.http import HttpProblem


def require_bearer(request: Request, expected: SecretStr | None) -> None:
    """Return when `Authorization: Bearer <token>` carries `expected`; raise a 401 otherwise.

    With no token configured every call is refused: an unset secret must never mean "open".
    """
    if expected is None:
        raise HttpProblem(401, "admin token not configured")
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HttpProblem(401, "bearer token required")
    if not hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode()):
        raise HttpProblem(401, "wrong bearer token")
