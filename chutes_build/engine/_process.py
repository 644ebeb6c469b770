"""A subprocess in its own process group whose output is streamed line by line.

Cancellation (Ctrl-C, a failed sibling in the scheduler) kills the whole group with
SIGKILL and reaps the leader before the cancellation propagates, so no client
process outlives the task that started it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence

import trio

__all__ = ["stream_process"]


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the group (already gone is fine)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def stream_process(
    argv: Sequence[str], *, env: Mapping[str, str], on_line: Callable[[str], None]
) -> int:
    """Run ``argv`` with stdout and stderr merged; call ``on_line`` per line; return the
    exit status. The process leads a new session (so a new process group)."""
    proc = await trio.lowlevel.open_process(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=dict(env), start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None  # a pipe was asked for
    try:
        pending = b""
        async for chunk in proc.stdout:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                on_line(line.decode(errors="replace").rstrip("\r"))
        if pending:
            on_line(pending.decode(errors="replace").rstrip("\r"))
        return await proc.wait()
    finally:
        if proc.returncode is None:
            kill_group(proc.pid)
        with trio.CancelScope(shield=True):
            await proc.stdout.aclose()
            await proc.wait()
