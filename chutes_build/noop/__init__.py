"""The no-op record: a ``build`` or ``up`` that had nothing to do, or a local ``plan``,
answered again from what it read and printed, before the rest of chutes-build is
imported.

``_replay`` checks a record and replays it (what a record holds, and why a replay
gives the same results as the run it stands for, is told there); ``_trace`` records
a run: the console script calls :func:`start_recording` and :func:`finish_recording`,
the cache and the engine say what else a run did (:func:`entry_used`,
:func:`log_appended`, :func:`port_probed`, :func:`engine_answered`) and the command
says when the settled check answered (:func:`run_settled`) or that the run has work
to do (:func:`run_unsettled`: tracing stops). The settled check asks
the engine through :func:`ask_engine`, as a replay does.

This package imports nothing of chutes-build and only what the standard library loads
fast.
"""

from ._replay import Miss, ask_engine, get_request, port_free, replay
from ._trace import (
    engine_answered,
    entry_used,
    finish_recording,
    log_appended,
    port_probed,
    run_settled,
    run_unsettled,
    start_recording,
)

__all__ = [
    "Miss",
    "ask_engine",
    "engine_answered",
    "entry_used",
    "finish_recording",
    "get_request",
    "log_appended",
    "port_free",
    "port_probed",
    "replay",
    "run_settled",
    "run_unsettled",
    "start_recording",
]
