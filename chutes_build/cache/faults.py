"""A testing aid: kill this process, or run a command, at the n-th pass through a named point.

``CHUTES_BUILD_FAULT=<point>:<n>`` (read once by the CLI's entry, which calls
:func:`arm`) makes the n-th call of ``hit(...)`` naming ``<point>`` send SIGKILL to
this process: no ``finally`` block, no flush, no atexit runs, exactly as when the
machine's OOM killer or a ``kill -9`` strikes. The fault-injection tests
(``tests/hardening/test_fault_injection.py``, ``bench/kill_points.py``) use it to
stop a run at chosen moments instead of guessing them with sleeps.

``CHUTES_BUILD_FAULT=<point>:<n>=<shell command>`` runs the command instead (``sh -c``,
waited for), with the point's details in its environment (``CHUTES_BUILD_FAULT_POINT``,
and ``CHUTES_BUILD_FAULT_CONTEXT``: the build context folder, at the ``context.*`` and
``build.*`` points), then goes on: the racing-edit tests
(``tests/hardening/test_racing_edit.py``) edit files at exact moments of a build this way.

Unarmed (the normal case) :func:`hit` is one global lookup and a return.

``CHUTES_BUILD_FAULT_SEEN=<file>`` (with or without a point) counts every pass
through every point and writes the counts to ``<file>`` as JSON when the process
ends normally: the tests use it to say how often a run that was not killed passed
the point it was armed for, and to check that each point they name still exists.

Points (each write also counts under ``<what>.<phase>``, where ``<what>`` is
``ac``, ``cas`` or a record namespace such as ``eval``, ``graph``, ``stat``):

- ``write.begin``: a cache write starts (nothing on disk yet);
- ``write.partial``: half of the temporary file is written;
- ``write.synced``: the temporary file is complete and fsynced, not yet renamed;
- ``write.replaced``: the entry is in place under its final name;
- ``hash.file``: a workspace file was just hashed;
- ``context.begin``: a build context is about to be made (its files were hashed);
- ``context.copied``: one more file was copied into a build context;
- ``build.output``: the BuildKit build printed one more line (it is running);
- ``build.finished``: a BuildKit build finished, its result is not recorded yet;
- ``commit.layer``: one layer's result of a segment was recorded, the rest not;
- ``deploy.before-start`` / ``deploy.started``: around a local container's start
  (after it answered its health check, before its result is recorded).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess

from ..core import ChutesBuildError

__all__ = ["arm", "counting", "hit", "parse"]

_armed: tuple[str, int] | None = None
_counting = False
_command: str | None = None
_seen: dict[str, int] = {}


def parse(spec: str | None) -> tuple[str, int] | None:
    """``"write.synced:3"`` -> ``("write.synced", 3)``; empty -> ``None``
    (a ``=<command>`` suffix is not part of the point: see :func:`arm`)."""
    if not spec:
        return None
    point, _, count = spec.partition("=")[0].rpartition(":")
    if not point or not count.isdigit() or int(count) < 1:
        raise ChutesBuildError(
            f"CHUTES_BUILD_FAULT={spec!r} is not <point>:<n>",
            fix="name a point of chutes_build/cache/faults.py and a count >= 1, "
            "e.g. write.synced:3, or unset it (it is a testing aid)",
        )
    return point, int(count)


def arm(spec: str | None, seen_file: str | None = None) -> None:
    """Arm (or, with ``None``, disarm) the hook; counts start again from zero. With
    ``seen_file``, every point is counted and the counts are written there at exit."""
    global _armed, _command, _counting
    _armed = parse(spec)
    _command = (spec or "").partition("=")[2] or None
    _counting = _armed is not None or bool(seen_file)
    _seen.clear()
    if seen_file:
        atexit.register(_write_seen, seen_file)


def counting() -> bool:
    """Whether passes are counted (armed, or asked to count): a writer that must do
    extra work to make a point observable (flush a torn half) does it only then."""
    return _counting


def _write_seen(path: str) -> None:
    with open(path, "w") as handle:
        json.dump(_seen, handle, sort_keys=True)


def hit(*names: str, context: str | None = None) -> None:
    """Count a pass through each of ``names``; at the armed one, SIGKILL this process or
    run the armed command (``context``: the build context folder, when there is one)."""
    if not _counting:
        return
    for name in names:
        _seen[name] = _seen.get(name, 0) + 1
    if _armed is None or _armed[0] not in names or _seen[_armed[0]] != _armed[1]:
        return
    if _command is None:
        os.kill(os.getpid(), signal.SIGKILL)
    env = {**os.environ, "CHUTES_BUILD_FAULT_POINT": _armed[0]}
    if context is not None:
        env["CHUTES_BUILD_FAULT_CONTEXT"] = context
    subprocess.run(["sh", "-c", _command], env=env, check=False)
