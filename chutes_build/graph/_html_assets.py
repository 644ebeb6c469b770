"""The HTML graph view's stylesheet and script, read from the package's ``assets/``.

They are plain files (``view.css``, ``graph.js``, ``ui.js``), shipped as package
data and read with :mod:`importlib.resources`, so they come from an installed
wheel as well as from a checkout, and linters and browsers' tools read them as
they are (``scripts/lint-assets``). ``graph.js`` holds the model, layout and
drawing and defines one name, ``ChutesGraph``; ``ui.js`` builds the page on it
(search, panel, pan/zoom, toolbar). Each parses on its own; the page carries
them inlined, in that order, as one ``<script>``.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["CSS", "JS", "SCRIPTS", "STYLESHEET", "asset_text"]

#: The stylesheet's file name under ``assets/``.
STYLESHEET = "view.css"
#: The script files under ``assets/``, in the order the page runs them.
SCRIPTS = ("graph.js", "ui.js")


def asset_text(name: str) -> str:
    """Return the text of ``assets/<name>`` in this package.

    Raises ``ValueError`` when the text could not be inlined into the page: a
    ``</script`` or ``</style`` in it would end its element early.
    """
    text = files(__package__).joinpath("assets", name).read_text(encoding="utf-8")
    for end in ("</script", "</style"):
        if end in text.lower():
            raise ValueError(f"assets/{name} contains {end!r}, which would end its element")
    return text


#: The page's stylesheet; its SHA-256 goes into the Content-Security-Policy.
CSS = asset_text(STYLESHEET)
#: The page's whole script; its SHA-256 goes into the Content-Security-Policy.
JS = "\n".join(asset_text(name) for name in SCRIPTS)
