"""``NodeSelector``: which GPUs a chute may run on, with the platform's bounds.

The GPU catalogue (memory in GB, hourly USD rate) and the supported-GPU
computation follow the platform's server code. The platform, not this
catalogue, decides which GPU names exist: a name the catalogue lacks is a
warning (the SDK sends it as written), and so is a keyword the SDK's pydantic
model would ignore (``min_vram_gpu_per_gpu=``).
"""

from __future__ import annotations

import difflib
from typing import Any

import msgspec

from ..core import DefinitionError, collecting, warn

__all__ = ["ALLOW_INCLUDE", "CONSUMER_GPUS", "GPU", "GPUS", "NodeSelector"]


class GPU(msgspec.Struct, frozen=True):
    key: str
    memory_gb: int
    hourly_rate: float


#: Known GPUs, as the platform lists them (Feb 2026 prices).
GPUS: dict[str, GPU] = {
    key: GPU(key, memory, rate)
    for key, memory, rate in [
        ("3090", 24, 0.25),
        ("4090", 24, 0.4),
        ("5090", 32, 0.7),
        ("a4000", 16, 0.2),
        ("a4000_ada", 20, 0.21),
        ("a5000", 24, 0.25),
        ("a6000", 48, 0.5),
        ("a6000_ada", 48, 0.75),
        ("pro_6000", 96, 1.8),
        ("l4", 24, 0.25),
        ("a10", 24, 0.25),
        ("a40", 48, 0.5),
        ("l40", 48, 0.55),
        ("l40s", 48, 0.85),
        ("a100_40gb", 40, 1.1),
        ("a100_40gb_sxm", 40, 1.15),
        ("a100", 80, 1.2),
        ("a100_sxm", 80, 1.25),
        ("h100", 80, 1.79),
        ("h100_nvl", 96, 2.25),
        ("h100_sxm", 80, 2.35),
        ("h800", 80, 1.5),
        ("h20", 96, 1.2),
        ("h200", 140, 2.75),
        ("mi300x", 192, 3.0),
        ("b200", 192, 4.5),
        ("b300", 288, 4.5),
    ]
}

#: The ``include`` list CHUTES_API.md records for the Feb 2026 server. The platform's
#: newest ``api/gpu.py`` checks ``include`` against its catalogue only, and real chute
#: files include ``h800``, ``4090`` or ``pro_6000``: chutes-build accepts every known GPU.
ALLOW_INCLUDE = frozenset(
    {
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
)
CONSUMER_GPUS = frozenset({"3090", "4090", "5090"})


def _fail(field: str, message: str, fix: str) -> DefinitionError:
    where = f"$.node_selector.{field}" if field else "$.node_selector"
    text = " ".join(filter(None, ("node selector", field, message)))
    return DefinitionError(text, fix=fix, field=where)


def _bounded_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(
            name,
            f"must be an integer from {low} to {high}, got {value!r}",
            f"set {name} between {low} and {high}",
        )
    return value


def _gpu_list(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise _fail(
            name,
            f"must be a list of GPU names, got {value!r}",
            f"pass e.g. {name}=['h100', 'a100']",
        )
    for gpu in value:
        if gpu not in GPUS:
            close = difflib.get_close_matches(gpu, GPUS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            warn(
                f"node selector {name} names the GPU {gpu!r}, which chutes-build's catalogue "
                "lacks (the platform decides whether it exists)",
                f"{hint}known GPUs: " + ", ".join(sorted(GPUS)),
            )
    return tuple(value)


def _unknown_keywords(unknown: dict[str, Any]) -> None:
    """The SDK's pydantic model ignores unknown keywords: warn, with a did-you-mean."""
    for keyword in unknown:
        close = difflib.get_close_matches(keyword, _FIELDS, n=1, cutoff=0.5)
        warn(
            f"NodeSelector() got the unknown keyword {keyword!r}, which the SDK ignores",
            f"did you mean {close[0]!r}?" if close else "use one of: " + ", ".join(_FIELDS),
        )


_FIELDS = ("gpu_count", "min_vram_gb_per_gpu", "max_hourly_price_per_gpu", "include", "exclude")


class NodeSelector:
    """GPU requirements of a chute: count, minimum VRAM, price cap, include / exclude lists."""

    __slots__ = (
        "exclude",
        "gpu_count",
        "include",
        "max_hourly_price_per_gpu",
        "min_vram_gb_per_gpu",
    )

    def __init__(
        self,
        gpu_count: int = 1,
        min_vram_gb_per_gpu: int = 16,
        max_hourly_price_per_gpu: float | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        **unknown: Any,
    ) -> None:
        _unknown_keywords(unknown)
        self.gpu_count = _bounded_int("gpu_count", gpu_count, 1, 8)
        self.min_vram_gb_per_gpu = _bounded_int("min_vram_gb_per_gpu", min_vram_gb_per_gpu, 16, 140)
        price = max_hourly_price_per_gpu
        if price is not None and (
            isinstance(price, bool) or not isinstance(price, int | float) or not 0 < price < 10
        ):
            raise _fail(
                "max_hourly_price_per_gpu",
                f"must be above 0 and below 10, got {price!r}",
                "set a price in USD per GPU-hour, e.g. 3.0",
            )
        self.max_hourly_price_per_gpu = float(price) if price is not None else None
        self.include = _gpu_list("include", include)
        self.exclude = _gpu_list("exclude", exclude)
        if self.exclude and len(self.exclude) > 5:
            raise _fail(
                "exclude",
                f"lists {len(self.exclude)} GPUs; at most 5 are allowed",
                "use include instead",
            )
        unknown_gpus = set(self.include or ()) - set(GPUS)
        if not self.supported_gpus and not unknown_gpus:
            raise _fail(
                "",
                "matches no GPU",
                "lower min_vram_gb_per_gpu, raise the price cap, or widen include",
            )

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "min_vram_gb_per_gpu") and hasattr(self, "exclude"):
            raise AttributeError("NodeSelector is immutable; create a new one")
        object.__setattr__(self, name, value)

    def dict(self) -> dict[str, Any]:
        """The selector as the platform's ``node_selector`` JSON object."""
        return {
            "gpu_count": self.gpu_count,
            "min_vram_gb_per_gpu": self.min_vram_gb_per_gpu,
            "max_hourly_price_per_gpu": self.max_hourly_price_per_gpu,
            "include": list(self.include) if self.include is not None else None,
            "exclude": list(self.exclude) if self.exclude is not None else None,
        }

    model_dump = dict

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeSelector:
        """A selector from its :meth:`dict` (a snapshot, a deploy body), without warnings:
        they were reported where the selector was defined."""
        with collecting():
            return cls(**data)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.dict().items() if v is not None)
        return f"NodeSelector({fields})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeSelector) and self.dict() == other.dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self.dict().items())))

    @property
    def supported_gpus(self) -> list[str]:
        """GPU keys this selector allows, computed as the platform does."""
        pool = set(self.include) & set(GPUS) if self.include else set(GPUS)
        pool -= set(self.exclude or ())
        gpus = [
            GPUS[k]
            for k in sorted(pool)
            if GPUS[k].memory_gb >= self.min_vram_gb_per_gpu
            and (
                self.max_hourly_price_per_gpu is None
                or GPUS[k].hourly_rate <= self.max_hourly_price_per_gpu
            )
        ]
        if not self.include and gpus:
            cheapest = min(g.hourly_rate for g in gpus)
            gpus = [g for g in gpus if g.hourly_rate <= 2.5 * cheapest or g.key == "pro_6000"]
        keys = [g.key for g in gpus]
        if "mi300x" in keys and len(keys) > 1:
            keys.remove("mi300x")
        return keys

    @property
    def hourly_price(self) -> float:
        """Estimated USD per hour: GPU count times the cheapest supported GPU's rate."""
        gpus = self.supported_gpus
        return self.gpu_count * min(GPUS[k].hourly_rate for k in gpus) if gpus else 0.0

    @property
    def deployment_fee(self) -> float:
        """The platform's fee for creating a chute with this selector (3x the hourly estimate)."""
        return round(3 * self.hourly_price, 4)
