"""FROM, apt and ADD take words; a hostile word is rejected, never split or turned into a flag."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from chutes_build import DefinitionError, Image

from ._model import BASE, FUZZ, SENTINEL, docker_word, hostile, image, mostly_plain, parse


def parsed_middle(built: Image) -> tuple:
    parsed = parse(str(built.run_command("echo sentinel")))
    assert parsed[0][0] == "FROM" and parsed[-1][:2] == SENTINEL, parsed
    return tuple(parsed[1:-1])


@FUZZ
@given(ref=st.one_of(hostile, mostly_plain, mostly_plain.map(lambda s: f"{s}:{s}")))
@example(ref="--x/y")
@example(ref="python:3.12\n")
@example(ref="python:3.12\nRUN evil")
@example(ref="python:3.\u0661")
def test_from_base(ref: str) -> None:
    try:
        built = image().from_base(ref)
    except DefinitionError as exc:
        assert repr(ref)[1:-1][:40] in exc.message and exc.fix
        return
    parsed = parse(str(built.run_command("echo sentinel")))
    assert [p[:2] for p in parsed] == [("FROM", (ref,)), SENTINEL]
    assert parsed[0][2]["flags"] == ()


@FUZZ
@given(
    verb=st.sampled_from(["install", "remove"]),
    packages=st.one_of(mostly_plain, st.lists(mostly_plain, max_size=4)),
)
@example(verb="install", packages="git\n")
@example(verb="install", packages=["git", "curl\nRUN evil"])
def test_apt_packages(verb: str, packages: str | list[str]) -> None:
    try:
        built = getattr(image(), f"apt_{verb}")(packages)
    except DefinitionError as exc:
        assert exc.fix and exc.message.startswith(("invalid apt package", f"apt_{verb}()"))
        return
    listed = [packages] if isinstance(packages, str) else packages
    middle = parsed_middle(built)
    assert [m[:2] for m in middle] == [("RUN", (f"apt-get -y {verb} " + " ".join(listed),))]


_CHECKSUM = "sha256:" + "ab" * 32
options = st.one_of(st.none(), st.just(""), mostly_plain, st.sampled_from(["1000:1000", "755"]))


@FUZZ
@given(
    path=mostly_plain,
    dest=st.one_of(mostly_plain, st.sampled_from(["/app/", "$HOME/x", "${APP:-/app}"])),
    chown=options,
    chmod=options,
    checksum=st.one_of(options, st.just(_CHECKSUM)),
    keep_git_dir=st.booleans(),
)
@example(path="x", dest="--chown=root /", chown=None, chmod=None, checksum=None, keep_git_dir=False)
@example(path="x", dest="<<EOF", chown=None, chmod=None, checksum=None, keep_git_dir=False)
@example(path="x", dest="/a\tb", chown=None, chmod=None, checksum=None, keep_git_dir=False)
@example(path="x", dest="/app", chown="a\n", chmod="755\n", checksum=None, keep_git_dir=True)
@example(path="x", dest='"/app"', chown=None, chmod=None, checksum=None, keep_git_dir=False)
def test_add_urls(path, dest, chown, chmod, checksum, keep_git_dir) -> None:
    """URL sources (local ones need files); every option is fuzzed."""
    source = f"https://example.com/{path}"
    try:
        built = image().add(
            source, dest, keep_git_dir=keep_git_dir, checksum=checksum, chown=chown, chmod=chmod
        )
    except DefinitionError as exc:
        assert exc.fix and exc.message.startswith(("invalid add()", "add() "))
        return
    ((cmd, values, extra),) = parsed_middle(built)
    add = built.directives[-1]
    assert cmd == "ADD" and values == (source, dest) and extra["flags"] == tuple(add.flags())
    assert not extra["json"] and not extra["heredocs"]
    assert [docker_word(v) for v in values] == [source, dest]
    assert add.chown == (chown or None) and add.chmod == (chmod or None)
    assert add.checksum == (checksum or None)


@FUZZ
@given(
    username=st.one_of(hostile, mostly_plain),
    name=st.one_of(hostile, mostly_plain),
    tag=st.one_of(hostile, mostly_plain),
)
@example(username="u", name="app\n", tag="1")
@example(username="u", name="\u212aelvin", tag="1")
@example(username="\ud800", name="app", tag="1")
def test_image_name_and_tag(username: str, name: str, tag: str) -> None:
    try:
        built = Image(username=username, name=name, tag=tag)
    except DefinitionError as exc:
        assert exc.fix and exc.message.startswith("invalid image ")
        return
    assert all(c.isascii() and (c.isalnum() or c in "-_.") for c in name + tag)
    assert str(built) == f"FROM {BASE}" and built.uid


@FUZZ
@given(
    value=st.one_of(
        st.integers(), st.floats(), st.booleans(), st.none(), st.binary(max_size=4),
        st.lists(st.integers(), max_size=2),
    )
)  # fmt: skip
def test_env_values_of_other_types(value: object) -> None:
    try:
        built = image().with_env("KEY", value)
    except DefinitionError as exc:
        assert exc.fix and "KEY" in exc.message
        return
    assert isinstance(value, int | float) and not isinstance(value, bool)
    ((cmd, values, _),) = parsed_middle(built)
    assert cmd == "ENV" and values[0] == "KEY" and docker_word(values[1]) == str(value)
