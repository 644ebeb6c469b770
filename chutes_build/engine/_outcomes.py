"""Outcomes: what a target settled for a deploy node without running it.

The local target cannot run a template chute on a machine without a GPU
(``needs-gpu``) nor a chute on a prebuilt image reference (``prebuilt``). Such a
chute is not dirty after ``up``: the outcome is recorded under
``outcome_key(deploy key, conditions)`` (and its runtime layer's, which is not built
for it), so ``plan``, ``why`` and ``graph`` show it as
that outcome for exactly these inputs under exactly these conditions, and show the
node dirty again once its inputs change or a GPU becomes usable.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ..cache import ActionResult, Store

__all__ = ["OUTCOMES", "local_conditions", "record_outcomes"]

#: Row states of the local target that are outcomes, not failures or work left to do.
OUTCOMES = ("needs-gpu", "prebuilt")


def local_conditions(gpu: bool, production: bool = False) -> dict[str, Any]:
    """What the local target's outcomes (``gpu``) and runtime layers (``production``)
    depend on besides the nodes' own inputs."""
    return {"target": "local", "gpu": gpu, "production": production}


def record_outcomes(
    store: Store, rows: Iterable[dict[str, Any]], gpu: bool, graph: Any = None
) -> int:
    """Record the outcome of every row the local target settled; return how many. With
    ``graph``, a settled chute's runtime layer (not built for it) gets the same outcome."""
    from ..graph import outcome_key, runtime_key

    conditions, count = {"target": "local", "gpu": gpu}, 0
    for row in rows:
        if row.get("state") in OUTCOMES and row.get("key"):
            outputs = {"outcome": row["state"], "note": row.get("note") or ""}
            result = ActionResult(kind="outcome", outputs=outputs, created=time.time())
            image = graph.node(row["key"]).image if graph is not None else None
            keys = [row["key"]] + ([runtime_key(image)] if image is not None else [])
            for key in keys:
                _record(store, outcome_key(key, conditions), result)
            count += 1
    return count


def _record(store: Store, key: str, result: ActionResult) -> None:
    """Write ``result`` unless the same outcome is recorded (a no-op ``up`` writes nothing)."""
    found, _why = store.read_action(key, touch=False)
    if found is None or found.kind != result.kind or found.outputs != result.outputs:
        store.put_action(key, result)
