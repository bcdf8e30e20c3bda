"""Integration fixtures: the app, through Chalice's test client, pointed at the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

from chalicelib.settings import get_settings
from devstack.stack import LocalStack


@pytest.fixture
def app_client(local_stack: LocalStack, tmp_path: Path) -> Iterator[Client]:
    """Chalice's test client for the app, configured for `local_stack`'s ports.

    The client is given an empty project folder so the `local` stage's fixed ports in
    .chalice/config.json do not override the free ports this stack is on.
    """
    get_settings.cache_clear()
    from app import app

    with Client(app, stage_name="local", project_dir=str(tmp_path)) as client:
        yield client
    get_settings.cache_clear()
