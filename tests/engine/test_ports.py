"""Ports of the local target: kept, moved when something else holds them, holders named."""

from __future__ import annotations

import os
import socket

import pytest

from chutes_build.core._errors import DeployError
from chutes_build.engine._ports import SEARCH, port_free, port_holder, settle_ports


def _settle(known, slots, held=None, busy=(), holders=None):
    return settle_ports(known, slots, 30000, held or {}, free=lambda p: p not in busy,
                        holder=(holders or {}).get)  # fmt: skip


def test_new_slots_take_the_lowest_free_ports_and_kept_ones_stay() -> None:
    known = {"deploy:t/a": 30000}
    assert _settle(known, ["deploy:t/a", "deploy:t/b", "deploy:t/c"], busy={30001}) == {}
    assert known == {"deploy:t/a": 30000, "deploy:t/b": 30002, "deploy:t/c": 30003}


def test_issue_12_a_kept_port_someone_else_holds_moves_and_says_who() -> None:
    known = {"deploy:t/a": 30000, "deploy:t/b": 30001}
    moves = _settle(known, ["deploy:t/a", "deploy:t/b"], busy={30000, 30002},
                    holders={30000: "pid 7 (nginx)"})  # fmt: skip
    assert known == {"deploy:t/a": 30003, "deploy:t/b": 30001}
    assert moves["deploy:t/a"].note() == "port 30000 is held by pid 7 (nginx); moved to 30003"


def test_a_port_its_own_container_holds_stays() -> None:
    known = {"deploy:t/a": 30000, "deploy:t/b": 30001}
    held = {"deploy:t/a": 30000, "deploy:t/b": None}  # None: an older, unlabelled container
    assert _settle(known, list(known), held=held, busy={30000, 30001}) == {}
    assert known == {"deploy:t/a": 30000, "deploy:t/b": 30001}


def test_no_free_port_is_a_clear_error_naming_the_port_and_holder() -> None:
    known, last = {"deploy:t/a": 30000}, 30000 + SEARCH - 1
    with pytest.raises(DeployError, match=rf"^no free port for chute t/a in 30000\.\.{last}: "
                       r"port 30000 is held by pid 7 \(x\)\n  fix: set port-base"):  # fmt: skip
        _settle(known, ["deploy:t/a"], busy=range(30000, 30000 + SEARCH),
                holders={30000: "pid 7 (x)"})  # fmt: skip


def test_port_holder_names_the_listening_process() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert port_holder(port) is None  # bound, not listening yet
        sock.listen()
        assert not port_free(port)
        holder = port_holder(port)
    assert holder is not None and holder.startswith(f"pid {os.getpid()} (")
    assert "python" in holder
    assert port_free(port)  # closed: free again
