"""``no_network()``: while active, any connection attempt or process start raises."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def _refuse(*args, **kwargs):
    shown = [a for a in args if isinstance(a, str | tuple | list)]
    raise AssertionError(f"network or process use while defining a chute: {shown!r}")


@contextmanager
def no_network() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse)
        patch.setattr(socket.socket, "connect_ex", _refuse)
        patch.setattr(socket, "create_connection", _refuse)
        patch.setattr(socket, "getaddrinfo", _refuse)
        patch.setattr(subprocess.Popen, "__init__", _refuse)
        yield
