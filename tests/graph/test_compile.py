"""Compiling chute files into the build graph: node kinds, sharing, what is in a key."""

from __future__ import annotations

import os

import pytest

from chutes_build.graph import BuildGraph

from .conftest import chute_file

APT = ".apt_install(['curl', 'git']).with_env('A', '1')"


def by_label(graph: BuildGraph, kind: str) -> dict[str, dict]:
    return {n.label: n for n in graph.nodes(kind)}


def test_kinds_and_edges(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT + ".run_command('echo a')"))
    graph = tree.compile()
    assert not graph.errors
    assert [n.kind for n in graph.nodes()] == [
        "base",
        "layer",
        "layer",
        "layer",
        "image",
        "runtime",
        "deploy",
    ]
    deploy = graph.node(graph.keys("deploy")[0])
    image = graph.node(deploy.image)
    assert list(deploy.deps) == [image.key]
    assert deploy.file == "chutes/a/chute_a.py" and deploy.attr == "chute"
    assert (image.username, image.name, image.tag) == ("me", "alpha", "1")
    assert list(image.chutes) == ["alpha"]
    assert graph.dockerfile(image.key) == (
        "FROM parachutes/python:3.12\nRUN apt-get -y install curl git\nENV A=1\nRUN echo a"
    )
    chain = graph.chain(image.key)
    for parent, child in zip(chain, chain[1:], strict=False):
        assert graph.node(child).parent == parent and list(graph.node(child).deps) == [parent]
    assert graph.nx.number_of_edges() == 7  # ... image -> runtime -> deploy, image -> deploy
    runtime = graph.node(graph.keys("runtime")[0])
    assert runtime.image == image.key and list(runtime.deps) == [image.key]
    assert list(deploy.after) == [runtime.key] and runtime.key not in deploy.deps
    assert sorted(graph.nx.successors(image.key)) == sorted([deploy.key, runtime.key])
    assert list(graph.nx.successors(runtime.key)) == [deploy.key]


def test_identical_prefixes_share_nodes(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT + ".run_command('echo a')"))
    tree.write("chutes/b/chute_b.py", chute_file("beta", APT + ".run_command('echo b')"))
    graph = tree.compile()
    layers = by_label(graph, "layer")
    assert len(graph.keys("base")) == 1
    assert sorted(layers) == [
        "ENV A=1",
        "RUN apt-get -y install curl git",
        "RUN echo a",
        "RUN echo b",
    ]
    assert list(layers["ENV A=1"].chutes) == ["alpha", "beta"]
    assert list(layers["RUN echo a"].chutes) == ["alpha"]


def test_labels_and_image_names_are_not_in_layer_keys(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    tree.write("chutes/b/chute_b.py", chute_file("beta", APT))
    graph = tree.compile()
    images = by_label(graph, "image")
    assert images["me/alpha:1"].top == images["me/beta:1"].top
    assert images["me/alpha:1"].key != images["me/beta:1"].key


def test_base_substitution_is_in_the_key(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    before = tree.compile()
    tree.config('base-images = {"parachutes/python:3.12" = "local/python:3.12"}')
    after = tree.compile()
    base_before, base_after = before.node(before.keys("base")[0]), after.node(after.keys("base")[0])
    assert base_after.line == "FROM local/python:3.12"
    assert base_after.requested == "parachutes/python:3.12"
    assert base_before.key != base_after.key
    assert set(before.keys()).isdisjoint(after.keys())


def test_add_is_keyed_by_content_not_mtime(tree):
    tree.write("chutes/a/src/model.py", "weights = 1\n")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", ".add('src', '/app/src')"))
    first = tree.compile()
    add = by_label(first, "layer")["ADD chutes/a/src /app/src"]
    assert list(add.files) == [
        {"path": "chutes/a/src/model.py", "digest": add.files[0]["digest"], "mode": 0o644}
    ]
    os.utime(tree.root / "chutes/a/src/model.py", (1, 1))
    assert add.key in tree.compile()
    tree.write("chutes/a/src/model.py", "weights = 2\n")
    assert add.key not in tree.compile()


def test_add_respects_ignore_files_and_excludes(tree):
    tree.write("chutes/a/src/model.py", "m")
    tree.write("chutes/a/src/notes.log", "log")
    tree.write("chutes/a/src/tmp/scratch.txt", "s")
    tree.write(".dockerignore", "**/*.log\n")
    tree.write(
        "chutes/a/chute_a.py", chute_file("alpha", ".add('src', '/app/', exclude=['src/tmp/**'])")
    )
    graph = tree.compile()
    add = next(n for n in graph.nodes("layer") if n.instruction == "ADD")
    assert [f["path"] for f in add.files] == ["chutes/a/src/model.py"]
    tree.write("chutes/a/src/other.log", "more log")
    assert add.key in tree.compile()


def test_add_line_uses_workspace_relative_paths(tree):
    tree.write("shared/data.txt", "d")
    tree.write("chutes/a/x.py", "x")
    tree.write(
        "chutes/a/chute_a.py",
        chute_file(
            "alpha", ".add('../../shared/data.txt', '/d/').add('*.py', '/app/', chown='1000:1000')"
        ),
    )
    lines = [n.line for n in tree.compile().nodes("layer")]
    assert lines == ["ADD shared/data.txt /d/", "ADD --chown=1000:1000 chutes/a/*.py /app/"]


def test_an_add_that_selects_nothing_any_more_is_a_compile_error(tree):
    tree.write("chutes/a/src/model.py", "m")
    tree.write("chutes/a/chute_a.py", chute_file("alpha", ".add('src', '/app/')"))
    tree.write("chutes/b/chute_b.py", chute_file("beta"))
    tree.compile()
    (tree.root / "chutes/a/src/model.py").unlink()
    graph = tree.compile()
    assert [rel for rel, _ in graph.errors] == ["chutes/a/chute_a.py"]
    assert str(graph.errors[0][1]).startswith("chutes")
    assert "add() source 'src' selects no file" in str(graph.errors[0][1])
    assert [n.label for n in graph.nodes("deploy")] == ["beta"]


def test_code_is_an_input_of_the_deploy_node_not_the_image(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    first = tree.compile()
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT) + "\n# a comment\n", age=5)
    second = tree.compile()
    assert first.keys("image") == second.keys("image")
    assert first.keys("deploy") != second.keys("deploy")
    deploy = second.node(second.keys("deploy")[0])
    assert set(deploy.code) == {"chutes/a/chute_a.py"}


@pytest.mark.parametrize(
    "change",
    [
        "chute = Chute(username='me', name='alpha', image=image, concurrency=4)",
        "chute = Chute(username='me', name='alpha', image=image, "
        "node_selector=NodeSelector(gpu_count=2))",
    ],
)
def test_settings_and_node_selector_are_in_the_deploy_key(tree, change):
    tree.write("chutes/a/chute_a.py", chute_file("alpha"))
    first = tree.compile()
    tree.write("chutes/a/chute_a.py", chute_file("alpha", extra=change), age=5)
    second = tree.compile()
    assert first.keys("image") == second.keys("image")
    assert first.keys("deploy") != second.keys("deploy")


def test_prebuilt_image_has_no_image_node(tree):
    tree.write(
        "chutes/a/chute_a.py",
        "from chutes_build import Chute\n"
        "chute = Chute(username='me', name='pre', image='chutes/vllm:0.9')\n",
    )
    graph = tree.compile()
    assert [n.kind for n in graph.nodes()] == ["deploy"]
    deploy = graph.node(graph.keys()[0])
    assert deploy.image is None and deploy.image_ref == "chutes/vllm:0.9"


def test_one_image_name_defined_two_ways_is_an_error(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    tree.write(
        "chutes/b/chute_b.py",
        chute_file("alpha", ".run_command('other')").replace(
            "name='alpha', image", "name='beta', image"
        ),
    )
    graph = tree.compile()
    assert len(graph.errors) == 1
    rel, error = graph.errors[0]
    assert rel == "chutes/b/chute_b.py"
    assert "image me/alpha:1 is defined differently here and in chutes/a/chute_a.py" in str(error)


def test_duplicate_chute_name_is_an_error(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    tree.write("chutes/b/chute_b.py", chute_file("alpha", APT))
    graph = tree.compile()
    assert [str(e).splitlines()[0] for _, e in graph.errors] == [
        "chutes/b/chute_b.py: chute me/alpha is also defined in chutes/a/chute_a.py"
    ]


def test_load_errors_are_collected_not_raised(tree):
    tree.write("chutes/a/chute_a.py", "raise RuntimeError('boom')\n")
    tree.write("chutes/b/chute_b.py", chute_file("beta"))
    graph = tree.compile()
    assert [rel for rel, _ in graph.errors] == ["chutes/a/chute_a.py"]
    assert "RuntimeError: boom" in str(graph.errors[0][1])
    assert [n.label for n in graph.nodes("deploy")] == ["beta"]


def test_find_and_resolve(tree):
    tree.write("chutes/a/chute_a.py", chute_file("alpha", APT))
    graph = tree.compile()
    deploy = graph.keys("deploy")[0]
    assert graph.resolve("alpha") == deploy
    assert graph.resolve("chutes/a/chute_a.py:chute") == deploy
    assert graph.resolve("me/alpha") == deploy
    assert graph.resolve("alpha:1") == graph.keys("image")[0]
    assert graph.resolve(deploy[:10]) == deploy
    from chutes_build import GraphError

    with pytest.raises(
        GraphError, match=r"^no node or chute matches 'nothing'\n  fix: give a chute name"
    ):
        graph.resolve("nothing")


def test_one_image_shared_by_two_chutes_is_one_node(tree):
    shared = (
        "from chutes_build import Image\n"
        "image = Image(username='me', name='shared', tag='1').apt_install(['curl'])\n"
    )
    tree.write("lib/__init__.py", "")
    tree.write("lib/images.py", shared)
    for name in ("alpha", "beta"):
        tree.write(
            f"chutes/{name}/chute_{name}.py",
            "from chutes_build import Chute\nfrom lib.images import image\n"
            f"chute = Chute(username='me', name='{name}', image=image)\n",
        )
    graph = tree.compile()
    assert not graph.errors
    (image,) = graph.nodes("image")
    assert list(image.chutes) == ["alpha", "beta"]
    assert [graph.node(k).image for k in graph.keys("deploy")] == [image.key] * 2
