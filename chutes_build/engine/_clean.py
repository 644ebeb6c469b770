"""``chutes-build clean``: remove the engine's layer and runtime tags no cache entry uses.

Every segment build leaves ``chutes-build/layer:<key>`` tags, every runtime layer a
``chutes-build/runtime:<key>`` tag and every runtime stage (one per Python and wheel set)
a ``chutes-build/runtime-stage:<key>`` tag; the action cache records which tags its
results point at. A tag that no entry of this cache names is only a leftover (an edit
made its key obsolete, or the entry was evicted): removing it frees the engine's disk
and can never make a cached result wrong, since a later run checks that each tag it
relies on still exists and rebuilds what is missing. Images in use by a container are kept
(the engine refuses to remove them without force).
"""

from __future__ import annotations

from ..cache import Store
from ._decide import LAYER_REPO
from ._local_target import RUNTIME_REPO
from ._protocol import DockerEngine
from ._runtime_stage import STAGE_REPO

__all__ = ["clean_tags", "unreferenced_tags"]

REPOS = (LAYER_REPO, RUNTIME_REPO, STAGE_REPO)
_PREFIXES = tuple(f"{repo}:" for repo in REPOS)


def referenced_tags(store: Store) -> set[str]:
    """Every layer, runtime or runtime-stage tag an action result of ``store`` names."""
    found = set()
    for entry in store.entries():
        if entry.area != "ac":
            continue
        result, _ = store.read_action(entry.name, touch=False)
        tag = result.outputs.get("tag") if result is not None else None
        if isinstance(tag, str) and tag.startswith(_PREFIXES):
            found.add(tag)
    return found


async def unreferenced_tags(docker: DockerEngine, store: Store) -> list[str]:
    """The engine's layer, runtime and stage tags that no entry of ``store`` names, sorted."""
    return sorted(await docker.image_tags(REPOS) - referenced_tags(store))


async def clean_tags(docker: DockerEngine, tags: list[str]) -> tuple[list[str], list[str]]:
    """Remove ``tags``; ``(removed, kept)``, kept being those the engine refused (a
    container uses them), read back from the engine."""
    if not tags:
        return [], []
    await docker.remove_images(tags)
    left = await docker.image_tags(REPOS)
    return [t for t in tags if t not in left], [t for t in tags if t in left]
