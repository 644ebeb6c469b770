"""Issue 7: secret-looking files never reach a build context unless an add() names them,
and the hotkey seed / API keys never reach outputs, cache entries or recorded graphs."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from chutes_build.cache import MemoryStore
from chutes_build.engine import BuildContext, segments
from chutes_build.engine._context import SecretInContext
from chutes_build.engine._orchestrate import _request
from chutes_build.graph import compile_workspace
from chutes_build.workspace._workspace import find_workspace
from tests.platform.standin._state import image_id_for

from ._workspace import SEED, posts

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
SECRETS = {
    ".env": "TOKEN=abc\n",
    ".env.local": "TOKEN=abc\n",
    "id_rsa": PEM,
    "key.pem": PEM,
    ".chutes/config.ini": f"[auth]\nhotkey_seed = {SEED}\n",
    ".aws/credentials": "[default]\naws_secret_access_key = x\n",
    "gcloud/service-account.json": '{"type": "service_account", "private_key": "x"}',
}
EXPLICIT_IMAGE = """\
from chutes_build import Chute, Image, NodeSelector

img = (Image(username="alice", name="imgx", tag="1.0")
       .add("../app/{path}", "/app/{path}").add("../app/main.py", "/app/main.py"))
chute = Chute(username="alice", name="explicit", image=img, node_selector=NodeSelector())

@chute.cord()
async def echo(self, text: str) -> str:
    return text
"""


def _plant(root, rel: str) -> None:
    path = root / "app" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SECRETS[rel])


def _local_contexts(root) -> list[dict[str, str]]:
    """The BuildKit context of every segment a local build of the workspace would run."""
    store = MemoryStore()
    graph = compile_workspace(find_workspace(str(root)), None, store)
    assert not graph.errors, graph.errors
    ctx = BuildContext(graph, store, docker=None)
    found = segments(graph, graph.keys("image"), set())
    return [_request(ctx, seg).context for seg in found.values()]


@pytest.mark.parametrize("rel", sorted(SECRETS))
def test_a_secret_reached_by_a_folder_add_is_refused_everywhere(clone, standin, rel):
    _plant(clone.root, rel)
    with pytest.raises(SecretInContext) as caught:
        _local_contexts(clone.root)
    local = str(caught.value)
    assert local.startswith(f"app/{rel}: refusing to put app/{rel} in the build context"), local
    assert "add('../app', '/app')" in local and "add it by name" in local
    proc = clone.cli("up", "--target", "chutes", "--accept-fee")
    assert proc.returncode != 0
    assert re.search(rf"app/{re.escape(rel)}: refusing to put app/{re.escape(rel)} in the build "
                     r"context of image alice/img[ab]:1\.0", proc.stderr), proc.stderr  # fmt: skip
    assert "selected by add('../app', '/app')" in proc.stderr
    assert posts(standin, "/images/") == 0 and posts(standin, "/chutes/") == 0


@pytest.mark.parametrize("rel", [".env", "key.pem"])
def test_a_secret_named_by_its_add_goes_in(clone, standin, rel):
    for name in ("alpha", "beta", "delta"):
        (clone.root / "chutes" / f"{name}.py").unlink()
    _plant(clone.root, rel)
    (clone.root / "chutes" / "explicit.py").write_text(EXPLICIT_IMAGE.format(path=rel))
    contexts = _local_contexts(clone.root)
    assert sorted(k for c in contexts for k in c) == sorted(["app/main.py", f"app/{rel}"])
    clone.up("--accept-fee")
    row = standin.state.images[image_id_for("alice", "imgx", "1.0")]
    names = zipfile.ZipFile(io.BytesIO(row.context_zip)).namelist()
    assert sorted(names) == sorted(["app/main.py", f"app/{rel}"])


def test_seed_and_api_key_never_reach_outputs_or_cache(clone, standin):
    api_key = "cpk_" + "ab" * 16 + "." + "cd" * 16 + "." + "Z" * 32
    clone.extra_env["CHUTES_API_KEY"] = api_key
    runs = [clone.up("--accept-fee"), clone.up()]
    bad = clone.up("--public", ok=False)  # refused by the platform: an error path too
    texts = [r["proc"].stdout + r["proc"].stderr for r in [*runs, bad]]
    texts += [clone.cli("plan", "--target", "chutes", "--json").stdout,
              clone.cli("graph", "--format", "json").stdout]  # fmt: skip
    for text in texts:
        assert SEED not in text and api_key not in text
    cache = clone.root / ".cache"
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert SEED.encode() not in data and bytes.fromhex(SEED) not in data, path
        assert api_key.encode() not in data, path
