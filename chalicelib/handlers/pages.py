"""The pages people watch a generation on: plain HTML, one script, one stylesheet, no build step.

They work offline (no CDN) and behind API Gateway's stage prefix: each page is given a `<base>`
so every link and API call is relative to wherever the app is mounted.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from chalice.app import Blueprint, Request, Response

blueprint = Blueprint(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSET_TYPES = {"longhaul.js": "text/javascript", "longhaul.css": "text/css"}
_SECURITY_HEADERS = {
    # Only our own script and style: nothing third-party can run on these pages.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " connect-src 'self'; base-uri 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A prefix is zero or more plain path segments. The request path is the caller's to choose, so
# anything else (`//evil.example` would make the base another host) falls back to the root.
_SAFE_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)*")


@lru_cache(maxsize=8)
def _read(name: str) -> str:
    return (WEB_DIR / name).read_text(encoding="utf-8")


def mount_prefix(request: Request) -> str:
    """The path the app is mounted under ('' locally, '/api' behind a stage named api).

    Always '' or a same-origin absolute path made of plain segments, whatever the request path.
    """
    resolved = request.context.get("resourcePath", "")
    for name, value in (request.uri_params or {}).items():
        resolved = resolved.replace("{" + name + "}", value)
    full = str(request.context.get("path", resolved))
    prefix = full[: len(full) - len(resolved)] if resolved and full.endswith(resolved) else ""
    return prefix if _SAFE_PREFIX.fullmatch(prefix) else ""


def _page(name: str, request: Request) -> Response:
    base = html.escape(mount_prefix(request) + "/", quote=True)
    body = _read(name).replace("{{base}}", base)
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": "text/html; charset=utf-8", **_SECURITY_HEADERS},
    )


@blueprint.route("/", methods=["GET"])
def start_page() -> Response:
    """Choose a scenario type and watch its generation (`?scenario=ID` resumes watching)."""
    return _page("index.html", blueprint.current_request)


@blueprint.route("/scenarios/{scenario_id}", methods=["GET"])
def results_page(scenario_id: str) -> Response:
    """A generated scenario: profile, monthly trends chart, totals, validation, events."""
    return _page("scenario.html", blueprint.current_request)


@blueprint.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    """The pages' script and stylesheet (only these two names exist)."""
    content_type = ASSET_TYPES.get(name)
    if content_type is None:
        return Response(body={"error": "no such asset"}, status_code=404)
    return Response(
        body=_read(name),
        status_code=200,
        headers={"Content-Type": f"{content_type}; charset=utf-8", "Cache-Control": "max-age=300"},
    )
