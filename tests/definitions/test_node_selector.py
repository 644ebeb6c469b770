"""``NodeSelector``: the platform's bounds and supported-GPU computation (CHUTES_API.md §4.3)."""

from __future__ import annotations

import re

import pytest

from chutes_build import GPUS, DefinitionError, NodeSelector
from chutes_build.core._warnings import collecting
from chutes_build.definitions._node_selector import ALLOW_INCLUDE


def test_defaults_match_the_sdk() -> None:
    assert NodeSelector().dict() == {
        "gpu_count": 1,
        "min_vram_gb_per_gpu": 16,
        "max_hourly_price_per_gpu": None,
        "include": None,
        "exclude": None,
    }
    assert NodeSelector().model_dump() == NodeSelector().dict()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gpu_count": 1},
        {"gpu_count": 8},
        {"min_vram_gb_per_gpu": 16},
        {"min_vram_gb_per_gpu": 140},
        {"max_hourly_price_per_gpu": 9.99},
        {"max_hourly_price_per_gpu": 1},
        {"exclude": ["3090", "4090", "5090", "l4", "a10"]},
        {"include": sorted(ALLOW_INCLUDE)},
    ],
)
def test_values_at_the_bounds_are_accepted(kwargs: dict) -> None:
    selector = NodeSelector(**kwargs)
    for key, value in kwargs.items():
        got = selector.dict()[key]
        assert got == value or got == float(value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpu_count": 0}, "gpu_count"),
        ({"gpu_count": 9}, "gpu_count"),
        ({"gpu_count": True}, "gpu_count"),
        ({"gpu_count": 1.5}, "gpu_count"),
        ({"gpu_count": "2"}, "gpu_count"),
        ({"min_vram_gb_per_gpu": 15}, "min_vram_gb_per_gpu"),
        ({"min_vram_gb_per_gpu": 141}, "min_vram_gb_per_gpu"),
        ({"max_hourly_price_per_gpu": 0}, "max_hourly_price_per_gpu"),
        ({"max_hourly_price_per_gpu": 10}, "max_hourly_price_per_gpu"),
        ({"max_hourly_price_per_gpu": -1}, "max_hourly_price_per_gpu"),
        ({"include": "h100"}, "include"),
        ({"exclude": ["3090", "4090", "5090", "l4", "a10", "a40"]}, "exclude"),
    ],
)
def test_out_of_bounds_values_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(DefinitionError) as info:
        NodeSelector(**kwargs)
    message = str(info.value)
    assert re.match(rf"^.*test_node_selector\.py:\d+: node selector {field} ", message), message
    assert info.value.field == f"$.node_selector.{field}"
    assert info.value.fix


def test_unknown_gpu_warns_with_the_known_ones() -> None:
    with collecting() as notes:
        selector = NodeSelector(exclude=["rtx9999"])
    assert selector.exclude == ("rtx9999",)
    [warning] = notes.warnings
    assert re.match(
        r"^.*test_node_selector\.py:\d+: node selector exclude names the GPU 'rtx9999', "
        r"which chutes-build's catalogue lacks \(the platform decides",
        str(warning),
    ), str(warning)
    assert "h100" in warning.fix and "a6000_ada" in warning.fix


def test_a_selector_matching_no_gpu_is_rejected() -> None:
    with pytest.raises(
        DefinitionError,
        match=r"^.*: node selector matches no GPU \(at \$\.node_selector\)\n  fix: ",
    ):
        NodeSelector(include=["h100"], min_vram_gb_per_gpu=96)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Default: every GPU with >= 16 GB priced <= 2.5 x the cheapest (a4000, 0.20),
        # plus pro_6000.
        (
            {},
            [
                "3090",
                "4090",
                "a10",
                "a40",
                "a4000",
                "a4000_ada",
                "a5000",
                "a6000",
                "l4",
                "pro_6000",
            ],
        ),
        # >= 80 GB: cheapest 1.2, cap 3.0 keeps mi300x (3.0), which is then dropped as
        # mixed; b200/b300 are priced out.
        (
            {"min_vram_gb_per_gpu": 80},
            ["a100", "a100_sxm", "h100", "h100_nvl", "h100_sxm", "h20", "h200", "h800", "pro_6000"],
        ),
        ({"min_vram_gb_per_gpu": 140}, ["b200", "b300", "h200"]),
        (
            {"min_vram_gb_per_gpu": 24, "max_hourly_price_per_gpu": 0.3},
            ["3090", "a10", "a5000", "l4"],
        ),
        # include: no price-spread filter.
        ({"include": ["h100", "h200", "b200"]}, ["b200", "h100", "h200"]),
        ({"include": ["mi300x"]}, ["mi300x"]),
        ({"include": ["mi300x", "h200"]}, ["h200"]),
        ({"include": ["h100", "h200"], "exclude": ["h200"]}, ["h100"]),
        (
            {"exclude": ["3090", "4090"], "min_vram_gb_per_gpu": 24},
            ["a10", "a40", "a5000", "a6000", "l4", "l40", "pro_6000"],
        ),
    ],
)
def test_supported_gpus(kwargs: dict, expected: list[str]) -> None:
    assert NodeSelector(**kwargs).supported_gpus == expected


def test_catalogue_matches_the_platform() -> None:
    assert len(GPUS) == 27
    assert (GPUS["h200"].memory_gb, GPUS["h200"].hourly_rate) == (140, 2.75)
    assert (GPUS["a4000"].memory_gb, GPUS["a4000"].hourly_rate) == (16, 0.2)
    assert ALLOW_INCLUDE == {
        "h100",
        "h100_sxm",
        "h100_nvl",
        "h200",
        "b200",
        "b300",
        "mi300x",
        "a100",
        "a100_sxm",
        "l40s",
        "a6000_ada",
    }


def test_selectors_are_immutable_and_compare_by_value() -> None:
    a, b = NodeSelector(gpu_count=2, include=["h100"]), NodeSelector(gpu_count=2, include=["h100"])
    assert a == b and hash(a) == hash(b) and a != NodeSelector(gpu_count=3, include=["h100"])
    with pytest.raises(AttributeError):
        a.gpu_count = 4
    assert a.dict()["include"] == ["h100"]


def test_price_estimates() -> None:
    selector = NodeSelector(gpu_count=2, include=["h100", "h200"])
    assert selector.hourly_price == pytest.approx(2 * 1.79)
    assert selector.deployment_fee == pytest.approx(3 * 2 * 1.79)
