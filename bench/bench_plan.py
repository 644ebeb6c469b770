"""Benchmark ``chutes-build plan`` on a synthetic monorepo against the chutes SDK.

Generates N chutes (one file each, a shared base, a few families with shared
layers, a local helper module per family), then measures in one run:

- sdk:   the least the SDK must do for the same files: import each one and
         render ``str(image)`` (in a venv with ``chutes==0.6.9``);
- cold:  ``chutes-build plan --json`` on an empty cache (imports every file);
- first: the same command again after a simulated build (every node's result
         in the action cache, the run recorded): nothing changed, no import;
         it reads every action result and writes the index of verified ones;
- warm:  the same command once more: the no-op plan a team runs again and again
         (the index in place, so only the stamps of the results are checked);
- record: the same no-op plan answered by its no-op record (``chutes_build.noop``:
         every path the last plan read, checked before chutes-build is imported;
         its output must be the warm plan's). The other rows run with
         ``CHUTES_BUILD_NOOP_RECORD=0``;
- edit:  after editing one family's helper module (re-imports that family,
         its deploy nodes are dirty and explained);

and the peak memory (ru_maxrss) of each process, and the warm cost per chute (with
and without the record).
Targets: cold <= 1.0x the SDK's time at 5,000 chutes, warm >= 5x faster than
the SDK at 1,000 chutes and >= 8x at 5,000, peak memory at 5,000 <= the SDK's.

``--add-files N`` gives the shape most monorepos have: each chute also
``add()``s its family's folder of N files, so a warm plan must show that none of
them changed (the SDK globs them when the file is imported, from the chute's
folder, as ``chutes build`` run there does). ``--chutes`` and ``--add-files``
take lists: every combination runs, and a last table puts them side by side
(the warm cost per chute at each size included).

chutes-build is byte-compiled first, as an installed wheel is (the machine's
``PYTHONDONTWRITEBYTECODE`` would otherwise make each run compile it from source);
the generated chute files are compiled by neither side.

    python bench/bench_plan.py [--chutes 1000,5000] [--families 8] [--add-files 0,20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CHUTE = """\
from chutes.image import Image
from chutes.chute import Chute, NodeSelector
from {helper} import FAMILY, PACKAGES

image = (
    Image(username="bench", name="chute-{i:05d}", tag="v1", readme="chute {i}")
    .from_base("parachutes/python:3.12")
    .apt_install(["curl", "git"])
    .apt_install(PACKAGES)
    .with_env("FAMILY", FAMILY)
    .run_command("pip install --no-cache-dir numpy==1.26.4 {family_pkg}")
    .run_command("echo {i} > /etc/chute-id"){adds}
)

chute = Chute(
    username="bench",
    name="chute-{i:05d}",
    image=image,
    concurrency={concurrency},
    node_selector=NodeSelector(gpu_count={gpus}, min_vram_gb_per_gpu=24),
)


@chute.cord(public_api_path="/echo", public_api_method="POST")
async def echo(self, text: str) -> str:
    return text


@chute.cord(public_api_path="/health", public_api_method="GET", method="GET")
async def health(self) -> dict:
    return {{"ok": True}}
"""

HELPER = """\
FAMILY = "{family}"
PACKAGES = ["libgl1", "ffmpeg-{n}"]
"""

SDK_SCRIPT = r"""
import importlib.util, os, sys, time
start = time.perf_counter()
import chutes.image, chutes.chute  # the SDK's own import is part of its cost
total = 0
for path in sys.argv[1:]:
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)
    os.chdir(folder)  # the SDK resolves add() sources from the working folder
    name = "c_" + os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    total += len(str(module.image))
    sys.path.remove(folder)
    for mod in [m for m in sys.modules if m.startswith("helpers_")]:
        del sys.modules[mod]
import resource
print(total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


ADDS = """
    .add("data", "/app/data")"""


def _files(folder: str, count: int, tag: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for n in range(count):
        with open(os.path.join(folder, f"file_{n:04d}.json"), "w") as handle:
            handle.write(f'{{"{tag}": {n}}}\n')


def generate(root: str, chutes: int, families: int, add_files: int = 0) -> None:
    with open(os.path.join(root, "pyproject.toml"), "w") as handle:
        handle.write(
            '[project]\nname = "bench"\nversion = "0"\n\n'
            '[tool.chutes-build]\nchutes = ["chutes/**/chute_*.py"]\n'
        )
    for f in range(families):
        folder = os.path.join(root, "chutes", f"family{f}")
        os.makedirs(folder, exist_ok=True)
        if add_files:
            _files(os.path.join(folder, "data"), add_files, f"family{f}")
        with open(os.path.join(folder, f"helpers_{f}.py"), "w") as handle:
            handle.write(HELPER.format(family=f"family{f}", n=f))
    for i in range(chutes):
        f = i % families
        text = CHUTE.format(i=i, helper=f"helpers_{f}", family_pkg=f"pkg-family{f}",
                            concurrency=1 + i % 4, gpus=1 + i % 2,
                            adds=ADDS if add_files else "")  # fmt: skip
        with open(os.path.join(root, "chutes", f"family{f}", f"chute_{i:05d}.py"), "w") as handle:
            handle.write(text)


def sdk_python() -> str:
    """A python with the reference SDK, from scripts/sdk-venv (made once, then reused)."""
    return subprocess.run(
        [os.path.join(REPO, "scripts", "sdk-venv")], check=True, capture_output=True, text=True
    ).stdout.strip()


def plan_cmd() -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from chutes_build.cli import main; sys.exit(main())",
        "plan",
        "--json",
    ]


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chutes", type=_ints, default=[1000], help="sizes, e.g. 1000,5000")
    parser.add_argument("--families", type=int, default=8)
    parser.add_argument(
        "--add-files", type=_ints, default=[0], help="files in each folder every chute add()s"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measurement; the best is kept"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated monorepo")
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(REPO, "chutes_build")],
                   check=True, capture_output=True)  # fmt: skip
    rows = []
    for add_files in args.add_files:
        for chutes in args.chutes:
            root = tempfile.mkdtemp(prefix="bench-plan-")
            try:
                shape = argparse.Namespace(**{**vars(args), "chutes": chutes,
                                              "add_files": add_files})  # fmt: skip
                rows.append((shape, run(root, shape)))
            finally:
                if not args.keep:
                    shutil.rmtree(root, ignore_errors=True)
            print()
    side_by_side(rows)


def side_by_side(rows: list) -> None:
    """One line per shape: the ratios, peak memory of both, and the warm cost per chute."""
    print("chutes  add()  cold/sdk  sdk/first  sdk/warm  sdk/record  peak MiB cold (sdk)"
          "  per chute: warm, record (sdk)")  # fmt: skip
    for shape, results in rows:
        sdk, cold, first, warm, record = (results[k] for k in
                                          ("sdk", "cold", "first", "warm", "record"))
        adds = f"{shape.add_files:>3d}" if shape.add_files else "  -"
        per = [1e6 * r[0] / shape.chutes for r in (warm, record, sdk)]
        print(f"{shape.chutes:6d}  {adds}    {cold[0] / sdk[0]:5.2f}x    {sdk[0] / first[0]:5.1f}x"
              f"   {sdk[0] / warm[0]:5.1f}x    {sdk[0] / record[0]:6.1f}x"
              f"   {cold[1] / 1024:7.1f} ({sdk[1] / 1024:5.1f})"
              f"    {per[0]:5.0f} us, {per[1]:4.0f} us ({per[2]:5.0f} us)")  # fmt: skip


def run(root: str, args: argparse.Namespace) -> dict:
    generate(root, args.chutes, args.families, args.add_files)
    files = sorted(
        os.path.join(dp, f)
        for dp, _, fs in os.walk(os.path.join(root, "chutes"))
        for f in fs
        if f.startswith("chute_")
    )
    env = dict(
        os.environ, CHUTES_BUILD_CACHE_DIR=os.path.join(root, ".cache"), PYTHONDONTWRITEBYTECODE="1"
    )
    sdk = sdk_python()
    script = os.path.join(root, "sdk_baseline.py")
    with open(script, "w") as handle:
        handle.write(SDK_SCRIPT)
    results: dict[str, tuple[float, int]] = {}
    off = {**env, "CHUTES_BUILD_NOOP_RECORD": "0"}
    for _ in range(args.repeat):
        shutil.rmtree(os.path.join(root, ".cache"), ignore_errors=True)
        measure(results, "sdk", [sdk, script, *files], env, root)
        measure(results, "cold", plan_cmd(), off, root)
        subprocess.run([sys.executable, "-c", FAKE_BUILD, root], env=env, check=True)
        measure(results, "first", plan_cmd(), off, root)
        _, _, out = measure(results, "warm", plan_cmd(), off, root)
        measure(results, "lib", [sys.executable, "-c", LIB_PLAN, root], env, root)
        summary = json.loads(out)["summary"]
        _record(plan_cmd(), env, root)
        _, _, replayed = measure(results, "record", plan_cmd(), env, root)
        if replayed != out:
            sys.exit("the plan answered by its record printed another plan")
    helper = os.path.join(root, "chutes", "family0", "helpers_0.py")
    for n in range(args.repeat):
        with open(helper, "a") as handle:
            handle.write(f"EDIT = {n}\n")
        _, _, out = measure(results, "edit", plan_cmd(), off, root)
    report(results, summary, json.loads(out)["summary"], args)
    return results


def _record(cmd: list[str], env: dict, root: str) -> None:
    """Run ``cmd`` until a run writes its no-op record (a run is recorded only when
    nothing it read changed within a second of its start)."""
    folder = os.path.join(env["CHUTES_BUILD_CACHE_DIR"], "noop")
    def records() -> dict[str, int]:
        if not os.path.isdir(folder):
            return {}
        return {entry.path: entry.stat().st_mtime_ns for entry in os.scandir(folder)}

    for _ in range(5):
        time.sleep(1.1)
        before = records()
        subprocess.run(cmd, env=env, cwd=root, check=True, capture_output=True)
        if records() != before:
            return
    sys.exit("no plan of the unchanged workspace was recorded")


def measure(
    results: dict, name: str, cmd: list[str], env: dict, cwd: str
) -> tuple[float, int, str]:
    # Peak RSS of children is a running maximum, so each child is measured in its own runner.
    runner = [sys.executable, "-c", RUSAGE_RUNNER, *cmd]
    proc = subprocess.run(runner, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    out, _, tail = proc.stdout.rpartition("\nRSS ")
    rss, elapsed = int(tail.split()[0]), float(tail.split()[1])
    best = results.get(name)
    if best is None or elapsed < best[0]:
        results[name] = (elapsed, max(int(rss), best[1] if best else 0))
    else:
        results[name] = (best[0], max(int(rss), best[1]))
    return elapsed, int(rss), out


LIB_PLAN = r"""
import json, sys
from chutes_build.workspace._workspace import find_workspace
from chutes_build.cache import DiskStore, default_cache_dir
from chutes_build.graph import compile_workspace, plan
workspace = find_workspace(sys.argv[1])
with DiskStore(default_cache_dir(workspace.config.cache_dir, workspace.root)) as store:
    result = plan(compile_workspace(workspace, None, store), store)
print(json.dumps({"summary": result.summary}))
"""

FAKE_BUILD = r"""
import sys
from chutes_build.workspace._workspace import find_workspace
from chutes_build.cache import ActionResult, DiskStore, default_cache_dir
from chutes_build.graph import compile_workspace, record_run, result_key
workspace = find_workspace(sys.argv[1])
with DiskStore(default_cache_dir(workspace.config.cache_dir, workspace.root)) as store:
    graph = compile_workspace(workspace, None, store)
    for key in graph.keys():
        store.put_action(result_key(graph.node(key)), ActionResult(kind=graph.node(key).kind))
    record_run(store, graph)
"""

RUSAGE_RUNNER = r"""
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - start
sys.stderr.write(proc.stderr)
sys.stdout.write(proc.stdout)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write("\nRSS %d %.6f" % (rss, elapsed))
sys.exit(proc.returncode)
"""


def report(results: dict, warm_summary: dict, edit_summary: dict, args: argparse.Namespace) -> None:
    sdk, cold, first, warm, edit, lib, record = (
        results[k] for k in ("sdk", "cold", "first", "warm", "edit", "lib", "record")
    )
    adds = f", each add()s a folder of {args.add_files} files" if args.add_files else ""
    print(
        f"synthetic monorepo: {args.chutes} chutes, {args.families} families{adds}; "
        f"best of {args.repeat}"
    )
    dirty, chutes = edit_summary["dirty"], len(edit_summary["dirty_chutes"])
    print(
        f"graph: {warm_summary['nodes']} nodes, {warm_summary['dirty']} dirty after a build; "
        f"a helper edit re-imports {edit_summary['imported']} files, dirties {dirty} nodes "
        f"({chutes} chutes)"
    )
    rows = [
        ("sdk import + str(image)", sdk),
        ("plan, cold cache", cold),
        ("plan, first after a build", first),
        ("plan, warm no-op", warm),
        ("warm no-op, its record", record),
        ("plan, one helper edited", edit),
        ("warm no-op, library only", lib),
    ]
    for label, (seconds, rss) in rows:
        print(f"  {label:26s} {seconds:7.3f} s   peak RSS {rss / 1024:7.1f} MiB")
    per_chute = 1e6 * warm[0] / args.chutes
    print(f"warm no-op per chute: {per_chute:.0f} us, {1e6 * record[0] / args.chutes:.0f} us "
          f"answered by its record (sdk: {1e6 * sdk[0] / args.chutes:.0f} us)")
    print(f"cold / sdk  = {cold[0] / sdk[0]:.2f}x   (target <= 1.0x at 5,000 chutes)")
    print(f"sdk / warm  = {sdk[0] / warm[0]:.1f}x faster   (target >= 5x at 1,000, >= 8x at 5,000)")
    print(f"sdk / record = {sdk[0] / record[0]:.1f}x faster   (the warm plan, its record)")
    print(f"sdk / first = {sdk[0] / first[0]:.1f}x faster   (the first plan after a build)")
    print(f"sdk / edit  = {sdk[0] / edit[0]:.1f}x faster")
    print(f"sdk / lib   = {sdk[0] / lib[0]:.1f}x faster   (warm, without the CLI's typer start-up)")
    print(f"peak memory, cold / sdk = {cold[1] / sdk[1]:.2f}x   (target <= 1.0x at 5,000 chutes)")


if __name__ == "__main__":
    main()
