"""Replacing a running chute's container: the old one serves until the new one is healthy.

Local containers use the host's network and one stable port per chute, and the runtime
binds that port with ``SO_REUSEPORT`` (``--reuse-port``), so the next container of a
chute can listen beside the one it replaces. :func:`swap_container` renames the old
container out of the way (the new one takes the chute's container name), starts the new
one and waits for it to answer as itself (health checks open a new connection each try,
so the kernel can hand them to the new server), then stops the old one gracefully: its
requests in flight finish. When the new one fails, it is removed and the old one, which
never stopped serving, gets its name back.

A container started before its runtime bound with ``SO_REUSEPORT`` holds the port
alone; the new container then cannot bind it, and the swap falls back to stopping the
old container first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio

from ..core import DeployError

__all__ = ["RETIRING", "fresh_connections", "replace_container", "swap_container"]

#: Suffix of a container's name while its replacement starts.
RETIRING = "-retiring"
STOP_SECONDS = 10  # the old server's graceful stop, before the engine kills it
_PORT_HELD = "address already in use"


def fresh_connections():
    """An httpx transport that opens a new connection per request (no keep-alive)."""
    import httpx

    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))


async def _stop(docker, name: str) -> None:
    await docker.stop_container(name, STOP_SECONDS)
    await docker.remove_containers([name])


async def swap_container(docker, name: str, start: Callable[[], Awaitable[str]]) -> str:
    """Start a new container ``name`` with ``start()`` (which waits until it is healthy,
    and removes it and raises :class:`DeployError` when it is not) while the running
    container ``name`` serves; the new container's id."""
    retiring = name + RETIRING
    await docker.remove_containers([retiring])  # left by an interrupted swap
    await docker.rename_container(name, retiring)
    try:
        container = await start()
    except DeployError as exc:
        if _PORT_HELD not in str(exc).lower():
            await docker.rename_container(retiring, name)
            raise
        await _stop(docker, retiring)  # an old runtime holds the port alone
        return await start()
    except BaseException:  # cancelled (Ctrl-C): the old container keeps its name
        with trio.CancelScope(shield=True):
            await docker.remove_containers([name])
            await docker.rename_container(retiring, name)
        raise
    with trio.CancelScope(shield=True):  # Ctrl-C now must not leave two servers on the port
        await _stop(docker, retiring)
    return container


async def replace_container(docker, name: str, old: list, start: Callable[[], Awaitable[str]]):
    """``start()`` the chute's container ``name`` in place of ``old`` (its containers): one
    that runs under that name is swapped out once the new one is healthy, others go first."""
    if len(old) != 1 or old[0].state != "running" or old[0].name != name:
        await docker.remove_containers([c.name for c in old])
        return await start()
    return await swap_container(docker, name, start)
