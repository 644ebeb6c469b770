"""The chutes target: images built by the platform's forge, chutes deployed by its API.

Everything is planned from the build graph, without importing a chute file:

- an **image node** is dirty for this target when the action cache has no result
  under :func:`remote_image_key` (its key, the target and the API base URL). Its
  task uploads the Dockerfile (the graph's lines, ``FROM`` as the user wrote it,
  not a local ``base-images`` substitute) and a zip of exactly the files its
  ``add`` layers select (secret-looking files refused, see ``_context``), then
  follows the build log into the progress display. The result (``image_id``,
  content ``digest``) is recorded under that key;
- a **deploy node** is dirty when nothing is recorded under
  :func:`remote_deploy_key`; its task ``POST /chutes/`` with the full body built
  from the node's definition and the chute file's source (see ``_chutes_body``).
  An unchanged chute is never posted again, so a re-run is a no-op.

A second record per image (by platform id) and per chute says what this workspace
(or a teammate, through the shared cache) uploaded or deployed before: the
content digest that makes an existing ``name:tag`` a hit instead of a conflict,
and whether a chute is new (a deployment fee applies) or an update.

Logos (uploaded once per content and API) and ``tag-from-key`` tags: see ``_chutes_names``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..cache import ActionResult
from ..core import DeployError
from ._chutes_body import deploy_body_for, deployment_fee
from ._chutes_names import (
    TAG_RE,
    logo_rows,
    logo_task,
    logos_of,
    remote_logo_key,
    remote_tag,
    remote_uid,
)
from ._context import context_files, expected_digests
from ._orchestrate import BuildContext, Work

if TYPE_CHECKING:
    from ..graph import DeployNode

__all__ = [
    "ChutesOptions",
    "TAG_RE",
    "deploy_body_for",
    "lookup_keys",
    "plan_chutes",
    "record_rollback",
    "remote_deploy_key",
    "remote_dockerfile",
    "remote_image_key",
    "remote_logo_key",
    "remote_tag",
    "remote_uid",
    "schedule_chutes",
]

TARGET = "chutes"
SUPERSEDED = "deploy-chutes-superseded"


@dataclass(frozen=True)
class ChutesOptions:
    """Settings of the chutes target, read at the entry point."""

    api_url: str
    accept_fee: bool = False
    public: bool = False
    tag_from_key: bool = False
    username: str | None = None  # recorded in the deploy history
    #: --force / --no-cache: each image is checked with the platform again, recorded or not
    #: (a chute is not: the platform refuses to deploy the same version twice).
    force: bool = False


def _key(kind: str, payload: dict[str, Any], deps: tuple[str, ...] = ()) -> str:
    from ..graph import node_key

    return node_key(kind, payload, deps)


def remote_image_key(image_key: str, api_url: str, tag_from_key: bool = False) -> str:
    payload: dict[str, Any] = {"target": TARGET, "api": api_url.rstrip("/")}
    if tag_from_key:  # another tag is another platform image
        payload["tag_from_key"] = True
    return _key("remote-image", payload, (image_key,))


def remote_deploy_key(
    deploy_key: str, api_url: str, public: bool, tag_from_key: bool = False
) -> str:
    payload: dict[str, Any] = {"target": TARGET, "api": api_url.rstrip("/"), "public": public}
    if tag_from_key:  # the body names another image id
        payload["tag_from_key"] = True
    return _key("remote-deploy", payload, (deploy_key,))


def _remote_ref(graph, image_key: str, opts: ChutesOptions) -> tuple[str, str]:
    """``(tag, uid)`` an image node is uploaded under for this target."""
    attrs = graph.node(image_key)
    tag = remote_tag(attrs.tag, image_key, opts.tag_from_key)
    if tag == attrs.tag:
        return tag, attrs.uid
    return tag, remote_uid(attrs.username, attrs.name, tag)


def _uid_key(kind: str, uid: str, api_url: str) -> str:
    """Where the last upload of an image id / deploy of a chute id is recorded."""
    return _key(kind, {"target": TARGET, "api": api_url.rstrip("/"), "uid": uid})


def record_rollback(store, api_url: str, result: dict, live_key: str,
                    superseded: list[str]) -> None:  # fmt: skip
    """After a rollback to the deploy recorded under ``live_key``: note the version the
    platform runs, and mark the deploys of other versions superseded, so ``up`` of their
    inputs deploys them again (and ``up`` of the live inputs does nothing)."""
    outputs = {"chute_id": str(result["chute_id"]), "version": str(result["version"]),
               "name": str(result["chute"])}  # fmt: skip
    store.put_action(_uid_key("remote-chute-id", outputs["chute_id"], api_url),
                     ActionResult(kind="deploy-chutes-id", outputs=outputs))  # fmt: skip
    if live_key:
        store.put_action(live_key, ActionResult(kind="deploy-chutes", outputs=outputs,
                                                created=time.time()))  # fmt: skip
    for key in superseded:
        store.put_action(key, ActionResult(kind=SUPERSEDED, created=time.time()))


def remote_dockerfile(graph, image_key: str) -> str:
    """The Dockerfile the platform builds: the graph's lines, ``FROM`` as written."""
    chain = graph.chain(image_key)
    lines = [f"FROM {graph.node(chain[0]).requested}"]
    lines += [graph.node(k).line for k in chain[1:]]
    return "\n".join(lines)


@dataclass(frozen=True)
class _RemoteImage:
    """What ``ensure_image`` reads of an image, from its graph node."""

    username: str
    name: str
    tag: str
    uid: str
    readme: str
    dockerfile: str

    def __str__(self) -> str:
        return self.dockerfile


def _public(attrs: DeployNode, opts: ChutesOptions) -> bool:
    extra = attrs.definition["settings"].get("extra") or {}
    return opts.public or extra.get("public") is True


# -- planning ----------------------------------------------------------------------------------


def _deploy_rkey(graph, key: str, opts: ChutesOptions) -> str:
    attrs = graph.node(key)
    keyed = opts.tag_from_key and attrs.image is not None
    return remote_deploy_key(key, opts.api_url, _public(attrs, opts), keyed)


def lookup_keys(graph, opts: ChutesOptions) -> list[str]:
    """Every action-cache key the plan reads (so a shared cache can fetch them first)."""
    keys = []
    for key in graph.keys("image"):
        keys += [remote_image_key(key, opts.api_url, opts.tag_from_key),
                 _uid_key("remote-image-id", _remote_ref(graph, key, opts)[1],
                          opts.api_url)]  # fmt: skip
    for key in graph.keys("deploy"):
        keys += [_deploy_rkey(graph, key, opts),
                 _uid_key("remote-chute-id", graph.node(key).uid, opts.api_url)]  # fmt: skip
    keys += [remote_logo_key(digest, opts.api_url) for digest in logos_of(graph)]
    return keys


def plan_chutes(graph, store, opts: ChutesOptions) -> dict[str, list[dict[str, Any]]]:
    """What ``up --target chutes`` would do: ``{"images", "chutes", "logos"}`` rows."""
    public_images = {
        graph.node(k).image for k in graph.keys("deploy")
        if graph.node(k).image and _public(graph.node(k), opts)
    }  # fmt: skip
    images = []
    for key in graph.keys("image"):
        attrs, rkey = graph.node(key), remote_image_key(key, opts.api_url, opts.tag_from_key)
        done = None if opts.force else store.get_action(rkey)
        tag, uid = _remote_ref(graph, key, opts)
        row = {"key": key, "remote_key": rkey, "image": attrs.label, "uid": uid, "tag": tag,
               "chutes": attrs.chutes, "public": key in public_images,
               "image_id": done.outputs.get("image_id") if done else None,
               "action": "cached" if done else "build",
               "reason": "built on the platform with this content" if done else
               "no platform build of this content is recorded"}  # fmt: skip
        images.append(row)
    dirty = {row["key"] for row in images if row["action"] == "build"}
    chutes = [_chute_row(graph, store, opts, k, dirty) for k in graph.keys("deploy")]
    dirty |= {row["key"] for row in chutes if row["action"] != "unchanged"}
    return {
        "images": images,
        "chutes": chutes,
        "logos": logo_rows(graph, store, opts.api_url, dirty),
    }


def _chute_row(graph, store, opts: ChutesOptions, key: str, dirty: set[str]) -> dict[str, Any]:
    attrs = graph.node(key)
    public = _public(attrs, opts)
    rkey = _deploy_rkey(graph, key, opts)
    done = store.get_action(rkey)
    known = store.get_action(_uid_key("remote-chute-id", attrs.uid, opts.api_url))
    row = {"chute": attrs.chute, "key": key, "remote_key": rkey, "image": attrs.image_ref,
           "file": attrs.file, "public": public, "fee": None, "state": None}  # fmt: skip
    if done is not None and done.kind == SUPERSEDED:  # rolled back since: deploy these again
        done = None
    if done is not None:
        row.update(
            action="unchanged",
            reason="deployed with these inputs",
            chute_id=done.outputs.get("chute_id"),
            version=done.outputs.get("version"),
        )
    elif known is None:
        row.update(
            action="create", reason="no deploy of this chute is recorded", fee=deployment_fee(attrs)
        )
    else:
        cause = "its image is rebuilt" if attrs.image in dirty else "its inputs changed"
        row.update(action="update", reason=f"{cause} since version {known.outputs.get('version')}")
    if attrs.image is None:
        row["reason"] += " (prebuilt image reference: deployed as-is)"
    return row


# -- tasks -------------------------------------------------------------------------------------


def _image_task(ctx: BuildContext, client, opts: ChutesOptions, work: Work, row: dict,
                logo_ids: dict[str, str]) -> None:  # fmt: skip
    from ..platform import ensure_image

    graph, key, node = ctx.graph, row["key"], f"image:{row['key']}"
    attrs = graph.node(key)
    logo = attrs.logo
    files, explicit = context_files(graph, graph.chain(key)[1:], attrs.label)
    expected = expected_digests(graph, graph.chain(key)[1:])
    image = _RemoteImage(attrs.username, attrs.name, row["tag"], row["uid"],
                         attrs.readme, remote_dockerfile(graph, key))  # fmt: skip
    uid_key = _uid_key("remote-image-id", row["uid"], opts.api_url)
    recorded = ctx.store.get_action(uid_key)
    lines: list[str] = []

    def on_log(line) -> None:
        lines.append(line.text)
        ctx.emit_line(node, line.text)

    async def run():
        started = time.time()
        result = await ensure_image(
            client, image, files, explicit=explicit, expected=expected, public=row["public"],
            on_log=on_log,
            recorded_digest=recorded.outputs.get("digest") if recorded else None,
            logo_id=logo_ids[logo["digest"]] if logo else None,
            logo_digest=logo["digest"] if logo else None,
        )  # fmt: skip
        return result, started

    def commit(value) -> None:
        result, started = value
        logs = (ctx.store.put_blob("\n".join(lines).encode()),) if lines else ()
        ref = f"{attrs.username}/{attrs.name}:{row['tag']}"
        outputs = {"image_id": result.image_id, "digest": result.digest, "ref": ref,
                   "created": str(result.created).lower()}  # fmt: skip
        now = time.time()
        ctx.store.put_action(row["remote_key"], ActionResult(
            kind="image-chutes", outputs=outputs, logs=logs, created=now,
            duration=now - started))  # fmt: skip
        ctx.store.put_action(uid_key, ActionResult(kind="image-chutes-id", outputs=outputs,
                                                   created=now))  # fmt: skip
        row.update(image_id=result.image_id, state="built" if result.created else "found")

    work.add(key, f"remote build {attrs.label}", run, commit)


def _deploy_task(ctx: BuildContext, client, opts: ChutesOptions, work: Work, row: dict,
                 logo_ids: dict[str, str]) -> None:  # fmt: skip
    attrs = ctx.graph.node(row["key"])
    path = os.path.join(ctx.graph.root, *attrs.file.split("/"))
    with open(path, encoding="utf-8") as handle:
        code = handle.read()
    uid = _remote_ref(ctx.graph, attrs.image, opts)[1] if attrs.image else None
    logo = attrs.logo
    body = deploy_body_for(attrs, uid, code, public=row["public"])  # checked before any upload

    async def run():
        from ..platform import deploy_checked

        if logo:  # uploaded by the logo node this task waits for, or known from the cache
            body["logo_id"] = logo_ids[logo["digest"]]
        try:  # the preflight checks (image built, public allowed), then the deploy
            return await deploy_checked(client, body, accept_fee=opts.accept_fee)
        except DeployError as exc:
            raise _explained(exc, attrs) from None

    def commit(response: dict) -> None:
        from ..platform import record_deploy

        record_deploy(ctx.store, opts.api_url, key=row["key"], body=body, response=response,
                      image=attrs.image_ref, username=opts.username,
                      remote_key=row["remote_key"])  # fmt: skip
        outputs = {"chute_id": str(response.get("chute_id")), "version":
                   str(response.get("version")), "name": attrs.chute}  # fmt: skip
        ctx.store.put_action(row["remote_key"], ActionResult(
            kind="deploy-chutes", outputs=outputs, created=time.time()))  # fmt: skip
        ctx.store.put_action(_uid_key("remote-chute-id", attrs.uid, opts.api_url),
                             ActionResult(kind="deploy-chutes-id", outputs=outputs))  # fmt: skip
        row.update(state="updated" if row["action"] == "update" else "created", **outputs)

    work.add(row["key"], f"deploy {attrs.chute}", run, commit)


def _explained(exc: DeployError, attrs: DeployNode) -> DeployError:
    """The platform's error, with the chute named and, for a 409, what it means here."""
    status = getattr(exc, "status", None)
    if status == 402:
        exc.fix = ("pass --accept-fee to accept the fee for new chutes (see "
                   "`chutes-build plan --target chutes`), or add balance")  # fmt: skip
    elif status == 409:
        exc.fix = ("the platform versions a chute by its image and code, so a settings-only "
                   "change of an existing chute cannot be redeployed (nor a logo-only one): "
                   "change its code too, or delete the chute on the platform first")  # fmt: skip
    exc.message = f"chute {attrs.chute} ({attrs.file}): {exc.message}"
    exc.args = (exc.render(),)
    return exc


def schedule_chutes(
    ctx: BuildContext, client, opts: ChutesOptions, work: Work, planned: dict[str, list[dict]]
) -> None:
    """Add the logo uploads, remote builds and deploys that ``planned``
    (:func:`plan_chutes`) calls for; a logo is uploaded only when a task needs it."""
    logo_ids = {r["digest"]: r["logo_id"] for r in planned["logos"] if r["logo_id"]}
    for row in planned["logos"]:
        if row["action"] == "upload":
            logo_task(ctx, client, work, row, logo_ids)
        else:
            row["state"] = row["action"]
    for row in planned["images"]:
        if row["action"] == "cached":
            work.skip(row["key"], f"remote build {row['image']}")
            row["state"] = "cached"
        else:
            _image_task(ctx, client, opts, work, row, logo_ids)
    for row in planned["chutes"]:
        if row["action"] == "unchanged":
            work.skip(row["key"], f"deploy {row['chute']}")
            row["state"] = "unchanged"
        else:
            _deploy_task(ctx, client, opts, work, row, logo_ids)
