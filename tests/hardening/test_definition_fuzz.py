"""Hypothesis drives Image, Chute, chute.cord and NodeSelector with random arguments.

Invalid arguments raise a ``DefinitionError`` (a ``ChutesBuildError``) and
nothing else; valid ones give definitions whose canonical bytes are equal when
built twice and differ exactly when a directive differs.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from chutes_build import GPUS, Chute, ChutesBuildError, DefinitionError, Image, NodeSelector
from chutes_build.graph._canonical import canonical_bytes

from ._model import FUZZ, hostile, mostly_plain, plain

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), hostile,
    st.binary(max_size=3), st.lists(st.one_of(st.integers(), mostly_plain), max_size=3),
    st.dictionaries(mostly_plain, st.integers(), max_size=2), st.just(object()),
)  # fmt: skip
text = st.one_of(mostly_plain, st.sampled_from(["/app", "$HOME", "chutes", "1000:1000"]))


def mostly(valid, times: int = 4):
    """``valid`` most of the time, anything now and then."""
    return st.one_of(*[valid] * times, anything)


def step():
    """One builder call: method name plus arguments, mostly plausible, sometimes anything."""
    single = st.sampled_from(["set_user", "set_workdir", "with_maintainer"])
    value = st.one_of(plain, plain, plain, text, anything)
    return st.one_of(
        st.tuples(st.just("with_env"), st.tuples(st.one_of(st.just("HF_HOME"), value), value)),
        st.tuples(st.just("run_command"), st.tuples(value)),
        st.tuples(single, st.tuples(value)),
        st.tuples(
            st.sampled_from(["apt_install", "apt_remove"]),
            st.tuples(st.one_of(value, st.lists(value, max_size=3))),
        ),
        st.tuples(st.just("with_entrypoint"), st.lists(value, max_size=3).map(tuple)),
        st.tuples(st.just("from_base"), st.tuples(st.one_of(st.just("python:3.12"), value))),
        st.tuples(st.just("with_python"), st.tuples(st.one_of(st.just("3.11.9"), value))),
        st.tuples(st.just("add"), st.tuples(value.map(lambda v: f"https://e.com/{v}"), value)),
    )  # fmt: skip


def apply(steps: list[tuple[str, tuple]]) -> tuple[Image, list[str]]:
    """Run the steps that are valid; record which ones raised (DefinitionError only)."""
    image, rejected = Image(username="fuzz", name="app", tag="1"), []
    for method, args in steps:
        try:
            image = getattr(image, method)(*args)
        except DefinitionError as exc:
            assert exc.fix and isinstance(exc, ChutesBuildError), exc
            rejected.append(method)
    return image, rejected


@FUZZ
@given(steps=st.lists(step(), max_size=6), other=st.lists(step(), max_size=6))
def test_image_builders_raise_only_definition_errors_and_key_stably(steps, other) -> None:
    first, rejected = apply(steps)
    event(f"{len(rejected)} of {len(steps)} steps rejected")
    again, rejected_again = apply(steps)
    assert rejected == rejected_again
    assert canonical_bytes(first.directives) == canonical_bytes(again.directives)
    assert str(first) == str(again)
    second, _ = apply(other)
    same = first.directives == second.directives
    assert same == (canonical_bytes(first.directives) == canonical_bytes(second.directives))


selector_args = st.fixed_dictionaries(
    {},
    optional={
        "gpu_count": mostly(st.integers(0, 9)),
        "min_vram_gb_per_gpu": mostly(st.integers(0, 200)),
        "max_hourly_price_per_gpu": mostly(st.floats(0, 12)),
        "include": mostly(st.lists(st.sampled_from(["h100", "a100", "4090", "bad"]), max_size=3)),
        "exclude": mostly(st.lists(st.sampled_from(["h100", "l40s", "3090", "x"]), max_size=7)),
    },
)  # fmt: skip


@FUZZ
@given(kwargs=selector_args)
def test_node_selector(kwargs: dict[str, Any]) -> None:
    try:
        first = NodeSelector(**kwargs)
    except DefinitionError as exc:
        event("rejected")
        assert exc.fix and exc.field and exc.field.startswith("$.node_selector"), exc
        return
    assert first == NodeSelector(**kwargs)
    # An include of GPUs the catalogue lacks is the platform's to judge (issue 13).
    assert first.supported_gpus or set(first.include or ()) - set(GPUS)
    assert canonical_bytes(first.dict()) == canonical_bytes(NodeSelector(**kwargs).dict())


chute_args = st.fixed_dictionaries(
    {"username": mostly(plain), "name": mostly(plain)},
    optional={
        "image": mostly(st.just("python:3.12")),
        "standard_template": mostly(st.sampled_from([None, "vllm", "tei"])),
        "concurrency": mostly(st.integers(0, 300)),
        "max_instances": mostly(st.integers(0, 101)),
        "shutdown_after_seconds": mostly(st.integers(0, 10**6)),
        "scaling_threshold": mostly(st.floats(-1, 2)),
        "node_selector": mostly(
            st.one_of(st.none(), st.builds(NodeSelector, gpu_count=st.integers(1, 8)))
        ),
        "passthrough_headers": st.one_of(st.none(), st.dictionaries(text, text, max_size=2)),
    },
)  # fmt: skip

cord_args = st.fixed_dictionaries(
    {},
    optional={
        "path": mostly(st.sampled_from(["/generate", "/v1/chat", "//x", "/A"])),
        "passthrough_path": mostly(st.just("/p")),
        "public_api_path": mostly(st.just("/api")),
        "method": mostly(st.sampled_from(["GET", "post", "TRACE"])),
        "public_api_method": mostly(st.sampled_from(["GET", "PUT"])),
        "passthrough_port": mostly(st.integers(-1, 70000)),
        "stream": anything,
        "input_schema": mostly(st.one_of(st.none(), st.just({"type": "object"}))),
        "output_schema": mostly(st.one_of(st.none(), st.just({"type": "string"}))),
    },
)  # fmt: skip


def make_chute(kwargs: dict[str, Any], cords: list[dict[str, Any]]) -> Chute:
    chute = Chute(**{"image": Image(username="u", name="app", tag="1"), **kwargs})
    for i, cord_kwargs in enumerate(cords):

        def handler(data: dict) -> dict:
            return data

        handler.__name__ = f"cord_{i}"
        chute.cord(**cord_kwargs)(handler)
    return chute


def describe(chute: Chute) -> bytes:
    image = chute.image.directives if isinstance(chute.image, Image) else chute.image
    cords = [cord.definition() for cord in chute.cords]
    return canonical_bytes([chute.uid, image, chute.concurrency, chute.scaling_threshold, cords])


@FUZZ
@given(kwargs=chute_args, cords=st.lists(cord_args, max_size=3))
def test_chute_and_cords(kwargs: dict[str, Any], cords: list[dict[str, Any]]) -> None:
    try:
        first = make_chute(kwargs, cords)
    except DefinitionError as exc:
        event("rejected")
        assert exc.fix, exc
        return
    assert describe(first) == describe(make_chute(kwargs, cords))
