"""``Image``: immutable with shared prefixes; the SDK-facing class mutates in place."""

from __future__ import annotations

import re

import msgspec
import pytest

from chutes_build import DefinitionError, Image
from chutes_build.compat._sdk import SDKImage
from chutes_build.definitions._directives import Entrypoint, From, Run

from .conftest import FIXTURES

BUILDERS = [
    ("from_base", ("ubuntu:22.04",)),
    ("with_maintainer", ("ops",)),
    ("set_user", ("chutes",)),
    ("set_workdir", ("/app",)),
    ("with_python", ("3.11.9",)),
    ("apt_install", ("git",)),
    ("apt_install", (["git", "curl"],)),
    ("apt_remove", ("vim",)),
    ("with_env", ("A", "1")),
    ("run_command", ("echo hi",)),
    ("add", ("requirements.txt", "/app/r.txt")),
    ("add", ("https://example.com/x", "/x")),
    ("with_entrypoint", ("python",)),
    ("with_entrypoint", (["python", "-m", "app"],)),
]


def base() -> Image:
    return Image(username="alice", name="app", tag="1", readme="hello")


@pytest.mark.parametrize(
    ("method", "args"), BUILDERS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(BUILDERS)]
)
def test_each_builder_returns_a_new_image_and_leaves_the_old_one(
    method: str, args: tuple, monkeypatch
) -> None:
    monkeypatch.chdir(FIXTURES / "parity")
    old = base().run_command("echo first")
    before_text, before_directives = str(old), old.directives
    kwargs = {"build_dir": str(FIXTURES / "parity")} if method == "add" else {}
    new = getattr(old, method)(*args, **kwargs)
    assert isinstance(new, Image) and new is not old
    assert str(old) == before_text and old.directives is before_directives
    assert str(new) != before_text
    assert (new.username, new.name, new.tag, new.readme, new.uid) == (
        old.username, old.name, old.tag, old.readme, old.uid,
    )  # fmt: skip


def test_branches_share_their_prefix() -> None:
    common = base().apt_install(["git"]).with_env("HF_HOME", "/cache")
    left = common.run_command("echo left")
    right = common.run_command("echo right")
    n = len(common.directives)
    assert left.directives[:n] == common.directives == right.directives[:n]
    assert all(a is b for a, b in zip(left.directives[:n], right.directives[:n], strict=True))
    assert left.directives[n] != right.directives[n]


def test_directives_are_frozen_structs() -> None:
    image = base().run_command("echo hi")
    run = image.directives[-1]
    assert isinstance(run, Run) and isinstance(run, msgspec.Struct)
    with pytest.raises(AttributeError):
        run.command = "rm -rf /"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        image.name = "other"  # type: ignore[misc]
    assert isinstance(image.directives, tuple)


def test_equal_definitions_are_equal_and_hash_alike() -> None:
    a = base().apt_install(["git", "curl"]).run_command("make")
    b = base().apt_install(["git", "curl"]).run_command("make")
    assert a == b and hash(a) == hash(b)
    assert a != base().apt_install(["curl", "git"]).run_command("make")


def test_from_base_replaces_the_first_line_only() -> None:
    image = base().run_command("echo 1").from_base("ubuntu:22.04").from_base("debian:12")
    assert [type(d) for d in image.directives] == [From, Run]
    assert image.base == "debian:12"
    assert str(image).splitlines() == ["FROM debian:12", "RUN echo 1"]


def test_with_entrypoint_replaces_and_moves_to_the_end() -> None:
    image = base().with_entrypoint("a").run_command("echo").with_entrypoint("b", "c")
    assert [type(d) for d in image.directives][-2:] == [Run, Entrypoint]
    assert str(image).splitlines()[-1] == 'ENTRYPOINT ["b", "c"]'
    assert sum(isinstance(d, Entrypoint) for d in image.directives) == 1


def test_with_python_restores_the_current_workdir() -> None:
    lines = str(base().set_workdir("/srv").with_python("3.12.1")).splitlines()
    assert lines.count("WORKDIR /srv") == 2
    assert lines[lines.index("RUN make altinstall") + 1] == "WORKDIR /srv"
    default = str(base().with_python()).splitlines()
    assert default[default.index("RUN make altinstall") + 1] == "WORKDIR /root"
    assert "RUN ln -s /opt/python/bin/python3.10 /opt/python/bin/python" in default


def test_sdk_image_mutates_in_place_and_returns_itself() -> None:
    image = SDKImage(username="alice", name="app", tag="1")
    same = image.apt_install("git")
    image.run_command("echo unassigned")
    assert same is image
    assert str(image).splitlines() == [
        "FROM parachutes/python:3.12",
        "RUN apt-get -y install git",
        "RUN echo unassigned",
    ]
    assert isinstance(image, Image)


def test_sdk_image_keeps_directives_immutable() -> None:
    image = SDKImage(username="alice", name="app", tag="1")
    before = image.directives
    image.run_command("echo")
    assert before == (From(image="parachutes/python:3.12"),)
    assert len(image.directives) == 2


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda i: i.with_env("1BAD", "x"),
            r"^.*test_image\.py:\d+: invalid environment variable name '1BAD'\n  fix: ",
        ),
        (
            lambda i: i.with_env("OK", "a\nRUN evil"),
            r"^.*: value of OK 'a\\nRUN evil' contains a line break",
        ),
        (lambda i: i.apt_install("git curl"), r"^.*: invalid apt package 'git curl'"),
        (lambda i: i.apt_install([]), r"^.*: apt_install\(\) was given no packages"),
        (lambda i: i.apt_remove("a&&b"), r"^.*: invalid apt package 'a&&b'"),
        (
            lambda i: i.run_command("echo a\nrm -rf /"),
            r"^.*: run_command\(\) 'echo a\\nrm -rf /' contains a line break",
        ),
        (lambda i: i.run_command(""), r"^.*: run_command\(\) was given an empty command"),
        (lambda i: i.from_base("Not An Image"), r"^.*: invalid image reference 'Not An Image'"),
        (lambda i: i.set_user("a\nb"), r"^.*: user 'a\\nb' contains a line break"),
        (lambda i: i.with_entrypoint(), r"^.*: with_entrypoint\(\) needs one or more strings"),
        (
            lambda i: i.with_entrypoint(["a", 1]),
            r"^.*: with_entrypoint\(\) needs one or more strings",
        ),
        (lambda i: i.with_python("3.11"), r"^.*: invalid python version '3\.11'"),
        (
            lambda i: i.add("https://e.com/x", "/x", checksum="sha256:abc"),
            r"^.*: invalid add\(\) checksum option 'sha256:abc'",
        ),
        (
            lambda i: i.add("https://e.com/x", "/x", chmod="8888"),
            r"^.*: invalid add\(\) chmod option '8888'",
        ),
        (
            lambda i: i.add("https://e.com/x", "/x", chown="a b"),
            r"^.*: invalid add\(\) chown option 'a b'",
        ),
        (
            lambda i: i.add("/etc/passwd", "/x"),
            r"^.*: add\(\) source '/etc/passwd' is an absolute path",
        ),
        (
            lambda i: i.add("a file.txt", "/x"),
            r"^.*: add\(\) source and destination must be non-empty and contain no spaces",
        ),
    ],
)
def test_invalid_values_raise_definition_errors_naming_the_call(call, pattern: str) -> None:
    with pytest.raises(DefinitionError) as info:
        call(base())
    assert re.match(pattern, str(info.value)), str(info.value)
    assert info.value.file == __file__ and info.value.fix


@pytest.mark.parametrize(
    ("name", "tag"), [("-bad", "1"), ("ok", "a tag"), ("ok", ""), ("a/b", "1"), ("ok", ".x")]
)
def test_invalid_name_or_tag(name: str, tag: str) -> None:
    with pytest.raises(DefinitionError, match=r"^.*test_image\.py:\d+: invalid image (name|tag) "):
        Image(username="alice", name=name, tag=tag)


def test_uid_is_uuid5_of_lowercased_reference() -> None:
    import uuid

    image = Image(username="Alice", name="My.App", tag="V1")
    assert image.uid == str(uuid.uuid5(uuid.NAMESPACE_OID, "alice/my.app:v1"))
    assert image.run_command("x").uid == image.uid
