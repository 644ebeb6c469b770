"""Fixtures for the HTML graph view: one headless Chromium for the whole folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chutes_build.graph._html import render_html
from tests.conftest import require

from ._webdriver import Browser, WebDriverError, find_browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    paths = find_browser()
    require(paths is not None, "chromium and chromedriver are not installed")
    assert paths is not None
    try:
        session = Browser(*paths)
    except (OSError, RuntimeError, WebDriverError) as exc:
        require(False, f"headless chromium did not start: {exc}")
        raise
    yield session
    session.close()


@pytest.fixture
def open_graph(browser: Browser, tmp_path: Path) -> Callable[..., Browser]:
    """Render nodes to a file, load it by file:// URL and return the browser."""

    def load(nodes: list[dict], **kwargs: str) -> Browser:
        page = tmp_path / "graph.html"
        page.write_text(render_html(nodes, **kwargs), encoding="utf-8")
        browser.get(page.as_uri())
        return browser

    return load
