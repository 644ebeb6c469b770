"""Ports of the local target: one per chute, kept across runs, moved when another holds it.

A chute's port is assigned once (``port_base`` upward, kept in the store, so adding a
chute never moves the others). Before a run starts containers, each assigned port is
checked: one that this chute's own running container holds stays; one that anything
else holds (another workspace with the same ``port-base``, any server) moves to the
next free port, and the move is kept. Who holds a port is told from ``/proc`` (the
listening socket's process) when this machine shows it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from .. import noop
from ..cache import scope_id
from ..core import DeployError

__all__ = ["PortMove", "assign_ports", "port_free", "port_holder", "settle_ports"]

#: How far above ``port_base`` a free port is looked for.
SEARCH = 1000
_LISTEN = "0A"


class PortMove:
    """A chute whose port was held by something else: where it was and where it is now."""

    __slots__ = ("holder", "new", "old")

    def __init__(self, old: int, new: int, holder: str) -> None:
        self.old, self.new, self.holder = old, new, holder

    def note(self) -> str:
        return f"port {self.old} is held by {self.holder}; moved to {self.new}"


def port_free(port: int) -> bool:
    """Whether a server may listen on ``127.0.0.1:port`` now (as uvicorn binds it); a
    recorded run's replay probes it the same way."""
    free = noop.port_free(port)
    noop.port_probed(port, free)
    return free


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def _listening_inodes(port: int, proc: str) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", table)) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if (
                len(fields) > 9
                and fields[3] == _LISTEN
                and int(fields[1].rsplit(":")[1], 16) == port
            ):
                inodes.add(fields[9])
    return inodes


def _command(pid: str, proc: str) -> str:
    try:
        with open(os.path.join(proc, pid, "cmdline"), "rb") as handle:
            words = handle.read().split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode(errors="replace") for w in words if w)[:120] or "?"


def port_holder(port: int, proc: str = "/proc") -> str | None:
    """``pid N (command line)`` of the process listening on ``port``, when ``proc`` shows it."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port, proc)}
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir(proc)):
        if inodes & _links(os.path.join(proc, pid, "fd")):
            return f"pid {pid} ({_command(pid, proc)})"
    return None


def _links(fd_dir: str) -> set[str]:
    """What a process's open descriptors point at (those that vanish meanwhile skipped)."""
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return set()
    found = set()
    for fd in fds:
        try:
            found.add(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            continue
    return found


def _holds(held: Mapping[str, int | None], slot: str, port: int) -> bool:
    # None: the container's port is not labelled (an older one): the assigned port.
    return slot in held and held[slot] in (None, port)


def _next_free(base: int, taken: set[int], free: Callable[[int], bool]) -> int | None:
    for port in range(base, base + SEARCH):
        if port not in taken and free(port):
            return port
    return None


def settle_ports(
    known: dict[str, int],
    slots: Iterable[str],
    base: int,
    held: Mapping[str, int | None],
    free: Callable[[int], bool] = port_free,
    holder: Callable[[int], str | None] = port_holder,
) -> dict[str, PortMove]:
    """Give each of ``slots`` a port in ``known`` (changed in place): a new slot gets the
    lowest free one; a slot whose port is held by anything but its own container
    (``held``: slot -> the port its running container listens on, ``None`` when its
    label does not say) moves. Returns the
    moves; raises :class:`DeployError` naming the port and its holder when none is free."""
    moves: dict[str, PortMove] = {}
    for slot in sorted(slots):
        port = known.get(slot)
        if port is not None and (_holds(held, slot, port) or free(port)):
            continue
        taken = set(known.values())
        new = _next_free(base, taken, free)
        who = (holder(port) or "another program") if port is not None else ""
        if new is None:
            raise DeployError(
                f"no free port for chute {slot.removeprefix('deploy:')} in "
                f"{base}..{base + SEARCH - 1}" + (f": port {port} is held by {who}" if who else ""),
                fix="set port-base in [tool.chutes-build] to a range no other server uses",
            )
        if port is not None:
            moves[slot] = PortMove(port, new, who)
        known[slot] = new
    return moves


def assign_ports(store, root: str, slots: list[str], base: int, held: dict[str, int]):
    """A port per chute slot, kept across runs, and the moves of ports something else held
    (``held``: the ports this workspace's running containers hold, by slot). Call under
    the workspace lock."""
    name = scope_id(root)
    known = store.load_struct("ports", name, dict[str, int]) or {}
    before = dict(known)
    moves = settle_ports(known, slots, base, held)
    if known != before:
        store.save_struct("ports", name, known)
    return known, moves
