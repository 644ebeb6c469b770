"""An OCI registry as the layer store of a pool of engines.

With ``registry = "HOST:PORT/PREFIX"`` every built layer is pushed as
``HOST:PORT/PREFIX/layer:<key>`` and every image as ``HOST:PORT/PREFIX/NAME:TAG``;
segments build ``FROM`` the registry reference of their parent layer, so any engine
can continue any chain, and a machine whose engine is empty reuses everything.

The registry is asked over its HTTP API (``/v2/``) with httpx, never through an
engine: one ``GET /v2/<name>/manifests/<tag>`` per reference, all at once, answers
whether it exists and which image it is (the manifest's config digest is the
engine's image id). Naming an image is engine-free too: its top layer's manifest is
put under the image's name, after its blobs are mounted into that repository.

Loopback registries (127.0.0.0/8, ``localhost``) are spoken to over plain HTTP, as
Docker engines treat them as insecure by default; any other over HTTPS. Basic
credentials come from ``$CHUTES_BUILD_REGISTRY_AUTH`` (``user:password``, read at the
entry point); ``docker push`` uses the engine's own ``docker login``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import trio

from ..core import BuildError

__all__ = ["MANIFEST_TYPES", "Registry", "parse_registry"]

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
_SPEC = re.compile(
    r"^(?P<host>[A-Za-z0-9.-]+(:[0-9]{1,5})?)/(?P<prefix>[a-z0-9]+([._/-][a-z0-9]+)*)$"
)
_FIX = "write it as HOST:PORT/PREFIX, e.g. registry = \"127.0.0.1:5000/chutes-build\""
_LOOKUPS_AT_ONCE = 16


def parse_registry(value: str, source: str) -> Registry:
    """``HOST:PORT/PREFIX`` as a :class:`Registry`; ``source`` names where it was set."""
    found = _SPEC.match(value.strip())
    if found is None:
        raise BuildError(f"invalid registry {value!r} in {source}", fix=_FIX)
    return Registry(found["host"], found["prefix"])


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name == "localhost" or name.startswith("127.")


@dataclass(frozen=True)
class Registry:
    """A registry ``host`` (``HOST[:PORT]``) and the repository ``prefix`` under it."""

    host: str
    prefix: str
    auth: tuple[str, str] | None = None
    transport: object | None = None  # an httpx transport (tests pass a MockTransport)

    def layer(self, key: str) -> str:
        return f"{self.host}/{self.prefix}/layer:{key}"

    def image(self, ref: str) -> str:
        """The registry reference of a local ``name:tag``."""
        return f"{self.host}/{self.prefix}/{ref}"

    def cache(self, name: str) -> str:
        return f"{self.host}/{self.prefix}/cache:{name}"

    @property
    def base_url(self) -> str:
        return f"{'http' if _loopback(self.host) else 'https'}://{self.host}"

    def _split(self, ref: str) -> tuple[str, str]:
        if not ref.startswith(f"{self.host}/"):
            raise ValueError(f"{ref!r} is not in registry {self.host}")
        repo, _, tag = ref[len(self.host) + 1 :].rpartition(":")
        return repo, tag

    def _client(self):
        import httpx

        return httpx.AsyncClient(
            base_url=self.base_url, auth=self.auth, transport=self.transport, timeout=30.0
        )

    def _error(self, what: str, detail: str) -> BuildError:
        return BuildError(
            f"registry {self.host} {what}: {detail}",
            fix="check that the registry runs and answers on its /v2/ API (scripts/registry "
            "start PORT DIR starts one here), and its credentials ($CHUTES_BUILD_REGISTRY_AUTH)",
        )

    async def _manifest(self, client, ref: str) -> dict | None:
        import httpx

        repo, tag = self._split(ref)
        try:
            response = await client.get(
                f"/v2/{repo}/manifests/{tag}", headers={"Accept": ", ".join(MANIFEST_TYPES)}
            )
        except httpx.HTTPError as exc:
            raise self._error("does not answer", f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(f"answered {response.status_code} for {ref}", response.text[:200])
        return {"body": response.content, "type": response.headers.get("content-type"),
                "json": response.json()}  # fmt: skip

    async def ping(self) -> None:
        """Raise :class:`BuildError` unless the registry answers ``GET /v2/``."""
        import httpx

        try:
            async with self._client() as client:
                response = await client.get("/v2/")
        except httpx.HTTPError as exc:
            raise self._error("does not answer", f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 401:
            raise self._error("refused the credentials", "401 on GET /v2/")
        if response.status_code != 200:
            raise self._error(f"answered {response.status_code} on GET /v2/", response.text[:200])

    async def image_ids(self, refs: Iterable[str]) -> dict[str, str]:
        """Which of ``refs`` exist: ``{ref: image id}`` (all asked at once)."""
        refs = sorted(set(refs))
        found: dict[str, str] = {}
        errors: list[BuildError] = []
        limit = trio.CapacityLimiter(_LOOKUPS_AT_ONCE)

        async def one(client, ref: str) -> None:
            async with limit:
                if errors:
                    return
                try:
                    manifest = await self._manifest(client, ref)
                except BuildError as exc:
                    errors.append(exc)
                    return
            if manifest is not None and "config" in manifest["json"]:
                found[ref] = manifest["json"]["config"]["digest"]

        async with self._client() as client, trio.open_nursery() as nursery:
            for ref in refs:
                nursery.start_soon(one, client, ref)
        if errors:
            raise errors[0]
        return found

    async def retag(self, source: str, target: str) -> str:
        """Put ``source``'s manifest under ``target`` (same registry); its image id."""
        async with self._client() as client:
            manifest = await self._manifest(client, source)
            if manifest is None:
                raise self._error("lost an image", f"{source} is not there any more")
            src_repo, _ = self._split(source)
            repo, tag = self._split(target)
            body = manifest["json"]
            blobs = [body["config"], *body.get("layers", ())]
            if repo != src_repo:
                for blob in blobs:
                    await self._mount(client, repo, src_repo, blob["digest"])
            response = await client.put(
                f"/v2/{repo}/manifests/{tag}", content=manifest["body"],
                headers={"Content-Type": manifest["type"] or MANIFEST_TYPES[0]},
            )  # fmt: skip
            if response.status_code not in (200, 201):
                detail = f"{response.status_code} {response.text[:200]}"
                raise self._error(f"refused {target}", detail)
            return body["config"]["digest"]

    async def _mount(self, client, repo: str, source_repo: str, digest: str) -> None:
        response = await client.post(
            f"/v2/{repo}/blobs/uploads/", params={"mount": digest, "from": source_repo}
        )
        if response.status_code != 201:
            raise self._error(
                f"could not mount {digest[:19]} into {repo}",
                f"{response.status_code} {response.text[:200]}",
            )
