"""GET /api/health: which backends are configured and reachable."""

from __future__ import annotations

from chalice.app import Blueprint, Response

blueprint = Blueprint(__name__)


@blueprint.route("/api/health", methods=["GET"])
def health() -> Response:
    """200 when every backend the app needs answers, 503 (same body) when one does not.

    The answer may be up to `HEALTH_CACHE_SECONDS` old: checking costs rate-limited backend calls.
    """
    from chalicelib.health import cached_health
    from chalicelib.settings import get_settings

    report = cached_health(get_settings())
    return Response(
        body=report.model_dump(mode="json"),
        status_code=200 if report.status == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )
