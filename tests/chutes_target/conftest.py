"""Fixtures of the chutes target tests: the stand-in platform and a workspace clone."""

from __future__ import annotations

import pytest

from tests.platform.standin import StandInState, running_standin

from ._workspace import clone_of, write_config_for, write_workspace


@pytest.fixture
def standin():
    with running_standin(StandInState(build_mode="immediate")) as server:
        yield server


@pytest.fixture
def source(tmp_path):
    return write_workspace(tmp_path / "src")


@pytest.fixture
def config(standin, tmp_path):
    return write_config_for(standin, tmp_path / "config.ini")


@pytest.fixture
def clone(source, standin, config, tmp_path):
    return clone_of(source, tmp_path / "one", standin, config)
