"""The pages' edge: the mount prefix behind API Gateway, assets, and what the browser is told."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.handlers.pages import mount_prefix


def _request(path: str, resource: str, **params: str) -> Any:
    return SimpleNamespace(context={"path": path, "resourcePath": resource}, uri_params=params)


@pytest.mark.parametrize(
    ("path", "resource", "params", "prefix"),
    [
        ("/", "/", {}, ""),
        ("/api/", "/", {}, "/api"),
        ("/scenarios/abc", "/scenarios/{scenario_id}", {"scenario_id": "abc"}, ""),
        ("/prod/scenarios/abc", "/scenarios/{scenario_id}", {"scenario_id": "abc"}, "/prod"),
        ("/elsewhere", "/", {}, ""),
        ("/v1.2/prod_~-x/", "/", {}, "/v1.2/prod_~-x"),
        # Not a plain path: the base would point at another host, or need escaping.
        ("//evil.example/", "/", {}, ""),
        ("/a b/", "/", {}, ""),
        ("/a//b/", "/", {}, ""),
        ("/a%2Fb/", "/", {}, ""),
    ],
)
def test_the_mount_prefix_is_what_precedes_the_route(
    path: str, resource: str, params: dict[str, str], prefix: str
) -> None:
    assert mount_prefix(_request(path, resource, **params)) == prefix


@pytest.fixture
def client(tmp_path: Any) -> Any:
    from app import app

    with Client(app, project_dir=str(tmp_path)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("path", "marker"), [("/", 'data-page="start"'), ("/scenarios/x", 'data-page="results"')]
)
def test_pages_are_html_with_a_base_and_a_strict_policy(
    client: Any, path: str, marker: str
) -> None:
    response = client.http.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.body.decode()
    assert marker in html
    assert '<base href="/">' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    # No third-party script or stylesheet: every src/href is relative.
    assert "http://" not in html
    assert "https://" not in html


def test_only_the_two_assets_are_served(client: Any) -> None:
    script = client.http.get("/assets/longhaul.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert client.http.get("/assets/longhaul.css").headers["Content-Type"].startswith("text/css")
    missing = client.http.get("/assets/app.py")
    assert missing.status_code == 404
    assert json.loads(missing.body) == {"error": "no such asset"}


def test_a_path_naming_another_host_never_becomes_the_base(client: Any) -> None:
    # Chalice's gateway routes `//evil.example/` to the start page; the base must stay ours.
    response = client.http.get("//evil.example/")
    assert response.status_code == 200
    assert '<base href="/">' in response.body.decode()
