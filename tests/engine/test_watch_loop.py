"""The dev loop's decisions, driven with in-memory fakes (the real engine: tests/build)."""

from __future__ import annotations

from types import SimpleNamespace

from chutes_build.core import DeployError, GraphError
from chutes_build.engine import (
    Broken,
    ChuteView,
    CodeReloaded,
    Failed,
    ReloadFailed,
    ReloadFailure,
    ReloadResult,
    Served,
    Updated,
    WatchLoop,
    WatchSteps,
    classify,
)


class FakeGraph:
    """What the loop reads of a graph: deploy nodes and load errors."""

    def __init__(self, chutes: dict[str, tuple[str, str | None]], errors=()) -> None:
        self.attrs = {
            deploy: {"slot": f"deploy:u/{name}", "chute": name, "file": f"chutes/{name}.py",
                     "image": image}  # fmt: skip
            for name, (deploy, image) in chutes.items()
        }
        self.errors = list(errors)

    def keys(self, kind: str) -> list[str]:
        return list(self.attrs)

    def node(self, key: str) -> SimpleNamespace:
        return SimpleNamespace(**self.attrs[key])


class Fakes:
    def __init__(self, graph: FakeGraph) -> None:
        self.graph, self.events, self.ups, self.reloads = graph, [], [], []
        self.reload_answer: ReloadResult | Exception = ReloadResult(ok=True, generation=2)
        self.up_state = "restarted"

    async def compile(self):
        return self.graph

    async def up(self, files: list[str]) -> dict:
        self.ups.append(files)
        rows = [{"chute": a["chute"], "key": key, "url": f"http://127.0.0.1/{a['chute']}",
                 "state": self.up_state} for key, a in self.graph.attrs.items()
                if a["file"] in files]  # fmt: skip
        failed = [] if self.up_state != "failed" else [{"label": "image x", "error": "boom"}]
        return {"chutes": rows, "failed": failed}

    async def reload(self, url: str) -> ReloadResult:
        self.reloads.append(url)
        if isinstance(self.reload_answer, Exception):
            raise self.reload_answer
        return self.reload_answer

    def loop(self) -> WatchLoop:
        loop = WatchLoop(WatchSteps(self.compile, self.up, self.reload, self.events.append))
        rows = [{"chute": a["chute"], "key": k, "url": f"http://127.0.0.1/{a['chute']}",
                 "state": "started"} for k, a in self.graph.attrs.items()]  # fmt: skip
        loop.start({"chutes": rows}, self.graph)
        return loop


def _view(deploy: str, image: str | None, name: str = "a") -> ChuteView:
    return ChuteView(slot=f"u/{name}", chute=name, file=f"chutes/{name}.py", deploy=deploy,
                     image=image)  # fmt: skip


def test_issue_15_classify_tells_code_edits_from_image_edits() -> None:
    served = {"u/a": Served(view=_view("d1", "i1"), url="u"),
              "u/b": Served(view=_view("d1", "i1", "b"), url="u"),
              "u/c": Served(view=_view("d1", "i1", "c"), url="u")}  # fmt: skip
    current = {"u/a": _view("d2", "i1"), "u/b": _view("d2", "i2", "b"),
               "u/d": _view("d1", "i1", "d")}  # fmt: skip
    kinds = {c.slot: c.kind for c in classify(served, current)}
    assert kinds == {"u/a": "code", "u/b": "image", "u/c": "removed", "u/d": "added"}
    assert {c.slot for c in classify(served, current, broken=["chutes/c.py"])} == {
        "u/a", "u/b", "u/d"
    }  # a chute of a broken file is not gone


async def test_issue_15_a_code_edit_is_reloaded_in_place() -> None:
    fakes = Fakes(FakeGraph({"a": ("d1", "i1")}))
    loop = fakes.loop()
    fakes.graph = FakeGraph({"a": ("d2", "i1")})
    await loop.on_batch()
    assert fakes.reloads == ["http://127.0.0.1/a"] and fakes.ups == []
    assert [type(e) for e in fakes.events] == [CodeReloaded]
    assert loop.served["u/a"].view.deploy == "d2"
    await loop.on_batch()  # nothing changed since
    assert len(fakes.reloads) == 1


async def test_issue_15_failed_new_code_keeps_the_old_code_serving() -> None:
    fakes = Fakes(FakeGraph({"a": ("d1", "i1")}))
    loop = fakes.loop()
    error = ReloadFailure(message="importing the new code raised NameError: x",
                          text="chutes/a.py:9: importing the new code raised NameError: x")
    fakes.reload_answer = ReloadResult(ok=False, status=422, error=error)
    fakes.graph = FakeGraph({"a": ("d2", "i1")})
    await loop.on_batch()
    assert fakes.ups == []
    assert fakes.events == [ReloadFailed(chute="a", text=error.text)]
    assert loop.served["u/a"].view.deploy == "d1"


async def test_issue_15_a_runtime_that_cannot_reload_is_restarted() -> None:
    for answer in (DeployError("no reload endpoint"), ReloadResult(ok=False, status=422,
                   error=ReloadFailure(message="starting the new code raised OSError: in use"))):
        fakes = Fakes(FakeGraph({"a": ("d1", "i1")}))
        loop = fakes.loop()
        fakes.reload_answer = answer
        fakes.graph = FakeGraph({"a": ("d2", "i1")})
        await loop.on_batch()
        assert fakes.ups == [["chutes/a.py"]]
        assert [type(e) for e in fakes.events] == [Updated]
        assert loop.served["u/a"].view.deploy == "d2"


async def test_issue_15_an_image_edit_brings_up_only_its_file() -> None:
    fakes = Fakes(FakeGraph({"a": ("d1", "i1"), "b": ("e1", "j1")}))
    loop = fakes.loop()
    fakes.graph = FakeGraph({"a": ("d2", "i2"), "b": ("e1", "j1")})
    await loop.on_batch()
    assert fakes.ups == [["chutes/a.py"]] and fakes.reloads == []
    assert loop.served["u/a"].view.image == "i2"


async def test_issue_15_a_failed_build_or_broken_file_keeps_the_last_good_version() -> None:
    fakes = Fakes(FakeGraph({"a": ("d1", "i1")}))
    loop = fakes.loop()
    fakes.up_state, fakes.graph = "failed", FakeGraph({"a": ("d2", "i2")})
    await loop.on_batch()
    assert [type(e) for e in fakes.events] == [Updated, Failed]
    assert fakes.events[-1].chutes == ("a",) and fakes.events[-1].text == "image x: boom"
    assert loop.served["u/a"].view.deploy == "d1"

    error = GraphError("syntax error: '(' was never closed", file="chutes/a.py", line=3)
    fakes.events.clear()
    fakes.graph = FakeGraph({}, errors=[("chutes/a.py", error)])
    await loop.on_batch()
    assert fakes.events == [Broken(file="chutes/a.py", text=str(error))]
    assert str(error).startswith("chutes/a.py:3: syntax error")
    assert loop.served["u/a"].view.deploy == "d1"  # still what serves
