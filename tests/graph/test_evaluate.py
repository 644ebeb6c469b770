"""The evaluation cache: a warm run imports only the chute files whose inputs changed."""

from __future__ import annotations

import sys

from chutes_build.cache import DiskStore
from chutes_build.graph import evaluation_key

from .conftest import chute_file

HELPER_IMPORT = "from lib.helpers import PACKAGES"


def monorepo(tree) -> None:
    tree.write("lib/__init__.py", "")
    tree.write("lib/helpers.py", "PACKAGES = ['curl']\n")
    tree.write("lib/other.py", "VALUE = 1\n")
    for name in ("alpha", "beta"):
        tree.write(
            f"chutes/{name}/chute_{name}.py",
            chute_file(name, ".apt_install(PACKAGES)", imports=HELPER_IMPORT),
        )
    tree.write(
        "chutes/gamma/chute_gamma.py", chute_file("gamma", imports="from lib.other import VALUE")
    )
    tree.write("chutes/delta/chute_delta.py", chute_file("delta"))


def deploy_keys(graph) -> dict[str, str]:
    return {n.label: n.key for n in graph.nodes("deploy")}


def test_warm_run_imports_nothing(tree):
    monorepo(tree)
    cold = tree.compile()
    assert sorted(cold.imported) == [
        "chutes/alpha/chute_alpha.py", "chutes/beta/chute_beta.py",
        "chutes/delta/chute_delta.py", "chutes/gamma/chute_gamma.py",
    ]  # fmt: skip
    modules = set(sys.modules)
    warm = tree.compile()
    assert warm.imported == []
    assert not {m for m in set(sys.modules) - modules if m.startswith(("_chute_", "lib"))}
    assert deploy_keys(warm) == deploy_keys(cold)
    assert [n.key for n in warm.nodes()] == [n.key for n in cold.nodes()]


def test_issue_3_editing_a_helper_invalidates_only_the_chutes_importing_it(tree):
    monorepo(tree)
    cold = deploy_keys(tree.compile())
    tree.write("lib/helpers.py", "PACKAGES = ['curl', 'git']\n", age=5)
    warm = tree.compile()
    assert sorted(warm.imported) == ["chutes/alpha/chute_alpha.py", "chutes/beta/chute_beta.py"]
    after = deploy_keys(warm)
    assert {name for name in cold if cold[name] != after[name]} == {"alpha", "beta"}
    alpha = warm.node(warm.resolve("alpha"))
    assert set(alpha.code) == {
        "chutes/alpha/chute_alpha.py",
        "lib/__init__.py",
        "lib/helpers.py",
    }
    assert "RUN apt-get -y install curl git" in warm.dockerfile(alpha.image)


def test_editing_a_chute_file_reimports_only_that_file(tree):
    monorepo(tree)
    tree.compile()
    tree.write("chutes/delta/chute_delta.py", chute_file("delta", ".run_command('echo hi')"), age=5)
    assert tree.compile().imported == ["chutes/delta/chute_delta.py"]


def test_a_failing_file_is_not_cached_and_is_retried(tree):
    monorepo(tree)
    tree.write("chutes/delta/chute_delta.py", "raise ValueError('broken')\n")
    first = tree.compile()
    assert [rel for rel, _ in first.errors] == ["chutes/delta/chute_delta.py"]
    second = tree.compile()
    assert second.imported == ["chutes/delta/chute_delta.py"]
    assert [rel for rel, _ in second.errors] == ["chutes/delta/chute_delta.py"]


def test_a_deleted_helper_forces_a_reimport(tree):
    monorepo(tree)
    tree.compile()
    (tree.root / "lib/other.py").unlink()
    graph = tree.compile()
    assert graph.imported == ["chutes/gamma/chute_gamma.py"]
    assert [rel for rel, _ in graph.errors] == ["chutes/gamma/chute_gamma.py"]


def test_the_cache_survives_processes_on_disk(tree, tmp_path):
    monorepo(tree)
    with DiskStore(str(tmp_path / "cache")) as tree.store:
        tree.compile()
    tree.store = DiskStore(str(tmp_path / "cache"))
    assert tree.compile().imported == []
    stats = tree.store.stats()
    assert stats.counters["eval_hit"] == 4 and stats.counters["eval_miss"] == 4


def test_evaluation_key_covers_file_deps_and_runtime():
    base = evaluation_key("a.py", "d1", {"lib/h.py": "x"})
    assert base != evaluation_key("a.py", "d2", {"lib/h.py": "x"})
    assert base != evaluation_key("a.py", "d1", {"lib/h.py": "y"})
    assert base != evaluation_key("b.py", "d1", {"lib/h.py": "x"})
    assert base != evaluation_key("a.py", "d1", {})
