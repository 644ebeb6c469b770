"""A real nginx WebDAV cache (scripts/nginx-cache) and the stand-in platform."""

from __future__ import annotations

import pytest

from tests._nginx import running_nginx_cache
from tests.platform.standin import StandInState, running_standin

TEAM_KEY = "shared-team-key-0123456789abcdef"


@pytest.fixture
def nginx(tmp_path_factory):
    """``(url, data folder)`` of a fresh nginx cache, stopped afterwards."""
    with running_nginx_cache(tmp_path_factory.mktemp("nginx-cache")) as served:
        yield served


@pytest.fixture
def standin():
    with running_standin(StandInState(build_mode="immediate")) as server:
        yield server
