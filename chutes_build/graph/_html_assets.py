"""CSS and JavaScript of the HTML graph view (see ``_html.render_html``).

Kept apart from the Python so each reads as one piece: the stylesheet lives in
``_html_css`` and the script in two halves, ``_html_js_graph`` (data, layout,
drawing) and ``_html_js_ui`` (search, panel, pan/zoom, toolbar), joined here
into the one ``<script>`` the page carries. The script reads the nodes from
``#graph-data`` and builds everything else with DOM calls: data is only ever
written with ``textContent`` or ``setAttribute``, never as markup.
"""

from __future__ import annotations

from ._html_css import CSS
from ._html_js_graph import JS_GRAPH
from ._html_js_ui import JS_UI

__all__ = ["CSS", "JS"]

#: The page's whole script; its SHA-256 goes into the Content-Security-Policy.
JS = JS_GRAPH + JS_UI
