"""How long making a build context takes: hard links (the old way) against a copy that
hashes what it copies and checks it again after the build (the way builds run now).

    python bench/bench_context.py [--files 2000] [--size 4096] [--rounds 7]

Writes ``--files`` files of ``--size`` bytes into a temporary workspace, hashes them
as the compiler does (their expected digests), then times, per round: hard-linking
every file into a fresh context folder; ``materialize`` (copy + xxh3 + compare); and
``materialize`` followed by ``check_context`` (the second look after a build). Prints
the median and the best round of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

from chutes_build.cache import FileDigests
from chutes_build.engine._context import check_context, materialize


def _tree(root: str, files: int, size: int) -> dict[str, str]:
    context = {}
    for i in range(files):
        rel = f"src/pkg{i % 40}/mod{i}.py"
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(os.urandom(size))
        context[rel] = path
    return context


def _link(context: dict[str, str], target: str) -> None:
    for rel, source in context.items():
        path = os.path.join(target, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.link(source, path)


def _time(step, context, expected, scratch: str) -> float:
    target = tempfile.mkdtemp(dir=scratch)
    started = time.perf_counter()
    step(context, target, expected)
    elapsed = time.perf_counter() - started
    shutil.rmtree(target)
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = os.path.join(scratch, "ws")
        context = _tree(root, args.files, args.size)
        digests = FileDigests(root)
        expected = {}
        for rel in context:
            found = digests.get(rel)
            expected[rel] = (found.digest, found.mode)
        steps = {
            "hard links (before)": lambda c, t, e: _link(c, t),
            "copy + hash (materialize)": materialize,
            "copy + hash + check after": lambda c, t, e: (materialize(c, t, e),
                                                          check_context(t, e)),
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(args.rounds):
            for name, step in steps.items():  # interleaved: a noisy moment hits every step
                times[name].append(_time(step, context, expected, scratch))
        print(f"{args.files} files of {args.size} bytes, {args.rounds} rounds")
        for name, found in times.items():
            print(f"  {name:28} median {statistics.median(found):7.1f} ms  "
                  f"best {min(found):7.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
