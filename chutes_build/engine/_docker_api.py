"""The Docker Engine API over the engine's unix socket, as a ``DockerEngine``.

Queries and container lifecycle are HTTP requests to the socket (httpx's unix
transport): no ``docker`` process starts for ``image ls``, ``ps``, ``inspect``, ``tag``,
``rm`` or ``logs``, each of which costs a process start-up and the client's own
initialisation. Builds, push and pull stay with the CLI (``DockerClient``): BuildKit's
session, credential helpers and progress are the client's work, and a build costs far
more than the process that runs it.

The socket is found as the CLI finds its engine (see ``engine_socket``). An engine the
CLI reaches some other way (``ssh://``, ``tcp://``, a context with TLS material) is
asked through the CLI; so is every call after the socket stopped answering, so a
stopped engine gets the CLI's own error and fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx
import trio

from ..core import BuildError, DeployError
from ._docker import DockerClient, failure_fix, log_error, wanted_refs
from ._docker_socket import api_wanted, engine_socket
from ._docker_wire import Refused, create_body, demux, each, error, info, message
from ._protocol import ContainerInfo, DockerEngine, normal_ref, split_ref

__all__ = ["ApiDocker", "api_wanted", "connect_docker"]

_BASE = "http://docker"


def connect_docker(client: DockerClient, *, api: bool = True) -> DockerEngine:
    """``client`` answering through its engine's socket when it has one (``api``), else
    ``client`` itself (the CLI)."""
    socket = engine_socket(client.env()) if api else None
    return ApiDocker(client, socket) if socket else client


class ApiDocker:
    """A ``DockerEngine`` answering through the Engine API at ``socket``; builds, push,
    pull and GPU containers go through ``cli``, as does every call once the socket
    stops answering."""

    def __init__(self, cli: DockerClient, socket: str) -> None:
        self.cli, self.socket, self.down = cli, socket, False
        self.path, self.mode, self.builder = cli.path, cli.mode, cli.builder

    def __repr__(self) -> str:
        return f"ApiDocker({self.cli!r}, {self.socket!r})"

    def build_argv(self) -> list[str]:
        return self.cli.build_argv()

    def env(self) -> dict[str, str]:
        return self.cli.env()

    def _client(self, timeout: float | None = 60.0) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(uds=self.socket, verify=False)
        return httpx.AsyncClient(transport=transport, base_url=_BASE, timeout=timeout)

    async def _call(self, method: str, /, *args: Any, **kwargs: Any) -> Any:
        """``self._<method>`` through the socket; the CLI's ``method`` when it does not
        answer."""
        if not self.down:
            try:
                return await getattr(self, f"_{method}")(*args, **kwargs)
            except httpx.TransportError:
                self.down = True
            except Refused as exc:
                kind = DeployError if "container" in method else BuildError
                raise error(kind, [method.replace("_", " ")], exc) from None
        return await getattr(self.cli, method)(*args, **kwargs)

    async def _ask(self, method: str, path: str, *, ok: Iterable[int] = (200,), **kw) -> Any:
        """One request; its JSON body (``None`` when empty); ``Refused`` on any other
        status than ``ok``."""
        async with self._client() as client:
            response = await client.request(method, path, **kw)
        if response.status_code not in tuple(ok):
            raise Refused(response.status_code, message(response))
        return response.json() if response.content else None

    # -- images -------------------------------------------------------------------------

    async def image_ids(self, refs: Iterable[str]) -> dict[str, str]:
        return await self._call("image_ids", list(refs))

    async def _image_ids(self, refs: list[str]) -> dict[str, str]:
        wanted = wanted_refs(refs)
        if not wanted:
            return {}
        found: dict[str, str] = {}
        for image in await self._images(sorted({n.rsplit(":", 1)[0] for n in wanted})):
            for tag in image.get("RepoTags") or ():
                for ref in wanted.get(normal_ref(tag), ()):
                    found[ref] = image["Id"]
        return found

    async def _images(self, repos: Sequence[str]) -> list[dict[str, Any]]:
        filters = json.dumps({"reference": list(repos)})
        return await self._ask("GET", "/images/json", params={"filters": filters})

    async def image_tags(self, repos: Sequence[str]) -> set[str]:
        return await self._call("image_tags", list(repos))

    async def _image_tags(self, repos: list[str]) -> set[str]:
        tags = {normal_ref(t) for image in await self._images(repos)
                for t in image.get("RepoTags") or ()}  # fmt: skip
        return {t for t in tags if t.rsplit(":", 1)[0] in repos}

    async def inspect_image(self, ref: str) -> dict[str, Any] | None:
        return await self._call("inspect_image", ref)

    async def _inspect_image(self, ref: str) -> dict[str, Any] | None:
        try:
            return await self._ask("GET", f"/images/{ref}/json")
        except Refused as exc:
            if exc.status == 404:
                return None
            raise error(BuildError, ["image", "inspect"], exc) from None

    async def tag_image(self, source: str, target: str) -> None:
        await self._call("tag_image", source, target)

    async def _tag_image(self, source: str, target: str) -> None:
        repo, tag = split_ref(target)
        try:
            await self._ask("POST", f"/images/{source}/tag", ok=(201,),
                            params={"repo": repo, "tag": tag})  # fmt: skip
        except Refused as exc:
            raise error(BuildError, ["tag", source], exc) from None

    async def remove_images(self, refs: Sequence[str]) -> None:
        await self._call("remove_images", list(refs))

    async def _remove_images(self, refs: list[str]) -> None:
        for ref in refs:  # one at a time: the engine removes shared parents in order
            try:
                await self._ask("DELETE", f"/images/{ref}")
            except Refused:
                continue  # in use (409) or gone (404): it stays as it is

    async def push(self, ref: str) -> None:
        await self.cli.push(ref)

    async def pull(self, ref: str) -> None:
        await self.cli.pull(ref)

    async def run_build(self, args: Sequence[str], on_line: Callable[[str], None]) -> int:
        return await self.cli.run_build(args, on_line)

    # -- containers ---------------------------------------------------------------------

    async def containers(
        self, labels: Mapping[str, str | None], keys: Sequence[str] = ()
    ) -> list[ContainerInfo]:
        return await self._call("containers", labels, keys)

    async def _containers(
        self, labels: Mapping[str, str | None], keys: Sequence[str]
    ) -> list[ContainerInfo]:
        wanted = [k if v is None else f"{k}={v}" for k, v in sorted(labels.items())]
        params = {"all": "1", "filters": json.dumps({"label": wanted})}
        return [info(row, keys) for row in await self._ask("GET", "/containers/json",
                                                            params=params)]  # fmt: skip

    async def inspect_containers(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self._call("inspect_containers", list(ids))

    async def _inspect_containers(self, ids: list[str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}

        async def one(ident: str) -> None:
            record = await self._container(ident)
            if record is not None:
                found[ident] = record

        await each(ids, one)
        return [found[i] for i in ids if i in found]

    async def _container(self, name: str) -> dict[str, Any] | None:
        try:
            return await self._ask("GET", f"/containers/{name}/json")
        except Refused as exc:
            if exc.status == 404:
                return None
            raise error(DeployError, ["inspect", name], exc) from None

    async def container_running(self, name: str) -> bool:
        return await self._call("container_running", name)

    async def _container_running(self, name: str) -> bool:
        record = await self._container(name)
        return bool(record and (record.get("State") or {}).get("Running"))

    async def run_container(self, image: str, *, name: str, **options: Any) -> str:
        if options.get("gpus") is not None:  # the CLI turns --gpus into device requests
            return await self.cli.run_container(image, name=name, **options)
        return await self._call("run_container", image, name=name, **options)

    async def _run_container(self, image: str, *, name: str, **options: Any) -> str:
        body = create_body(image, **options)
        words = ["run", "--detach"]
        try:
            made = await self._ask("POST", "/containers/create", ok=(201,),
                                   params={"name": name}, json=body)  # fmt: skip
            await self._ask("POST", f"/containers/{made['Id']}/start", ok=(204, 304))
        except Refused as exc:
            raise error(DeployError, words, exc) from None
        return made["Id"]

    async def run_once(
        self, image: str, command: Sequence[str], *, entrypoint: str | None = None
    ) -> str:
        return await self._call("run_once", image, command, entrypoint=entrypoint)

    async def _run_once(self, image: str, command: Sequence[str], *, entrypoint: str | None):
        body = create_body(image, command=command, network="none")
        if entrypoint is not None:
            body["Entrypoint"] = [entrypoint]
        try:
            made = await self._ask("POST", "/containers/create", ok=(201,), json=body)
        except Refused as exc:
            raise error(BuildError, ["run", "--rm"], exc) from None
        try:
            await self._ask("POST", f"/containers/{made['Id']}/start", ok=(204, 304))
            async with self._client(timeout=None) as client:
                waited = (await client.post(f"/containers/{made['Id']}/wait")).json()
            out, err = await self._logs(made["Id"], {"stdout": "1", "stderr": "1"})
        except Refused as exc:
            raise error(BuildError, ["run", "--rm"], exc) from None
        finally:
            with trio.CancelScope(shield=True):
                await self._forget(made["Id"])
        if waited.get("StatusCode") != 0:
            raise BuildError(f"`docker run --rm` failed (exit {waited.get('StatusCode')}): "
                             f"{err.strip()}", fix=failure_fix(err, ["run", "--rm"]))  # fmt: skip
        return out

    async def _forget(self, ident: str) -> None:
        try:
            await self._ask("DELETE", f"/containers/{ident}", ok=(204,),
                            params={"force": "1", "v": "1"})  # fmt: skip
        except Refused as exc:
            if exc.status != 404:
                raise error(DeployError, ["rm", "--force"], exc) from None

    async def remove_containers(self, names: Sequence[str]) -> None:
        await self._call("remove_containers", list(names))

    async def _remove_containers(self, names: list[str]) -> None:
        await each(names, self._forget)

    async def rename_container(self, name: str, new_name: str) -> None:
        await self._call("rename_container", name, new_name)

    async def _rename_container(self, name: str, new_name: str) -> None:
        await self._ask("POST", f"/containers/{name}/rename", ok=(204,),
                        params={"name": new_name})  # fmt: skip

    async def stop_container(self, name: str, timeout: int) -> None:
        await self._call("stop_container", name, timeout)

    async def _stop_container(self, name: str, timeout: int) -> None:
        try:
            await self._ask("POST", f"/containers/{name}/stop", ok=(204, 304),
                            params={"t": str(timeout)})  # fmt: skip
        except Refused as exc:
            if exc.status != 404:
                raise

    # -- logs ---------------------------------------------------------------------------

    async def _logs(self, name: str, params: dict[str, str]) -> tuple[str, str]:
        """``(stdout, stderr)`` of a finished read of the container's log."""
        async with self._client() as client:
            response = await client.get(f"/containers/{name}/logs", params=params)
        if response.status_code != 200:
            raise Refused(response.status_code, message(response))
        frames, rest = demux(response.content)
        streams = {1: b"", 2: b""}
        for stream, payload in [*frames, (1, rest)]:
            streams[2 if stream == 2 else 1] += payload
        return streams[1].decode(errors="replace"), streams[2].decode(errors="replace")

    async def container_log(self, name: str, lines: int) -> str:
        return await self._call("container_log", name, lines)

    async def _container_log(self, name: str, lines: int) -> str:
        params = {"stdout": "1", "stderr": "1", "tail": str(lines)}
        try:
            async with self._client() as client:
                response = await client.get(f"/containers/{name}/logs", params=params)
        except httpx.TimeoutException:
            return ""
        if response.status_code != 200:
            return ""
        frames, rest = demux(response.content)
        return b"".join([*(payload for _, payload in frames), rest]).decode(errors="replace")

    async def stream_log(
        self,
        name: str,
        on_output: Callable[[bytes], None],
        *,
        tail: int | None = None,
        follow: bool = False,
    ) -> None:
        await self._call("stream_log", name, on_output, tail=tail, follow=follow)

    async def _stream_log(
        self, name: str, on_output: Callable[[bytes], None], *, tail: int | None, follow: bool
    ) -> None:
        params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0",
                  "tail": "all" if tail is None else str(tail)}  # fmt: skip
        pending = b""
        async with self._client(timeout=None) as client:
            async with client.stream("GET", f"/containers/{name}/logs", params=params) as got:
                if got.status_code != 200:
                    await got.aread()
                    raise log_error(name, f"HTTP {got.status_code}",
                                    f"Error response from daemon: {message(got)}")  # fmt: skip
                async for chunk in got.aiter_bytes():
                    frames, pending = demux(pending + chunk)
                    for _, payload in frames:
                        on_output(payload)
        if pending:
            on_output(pending)
