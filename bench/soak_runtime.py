"""Long runs of the runtime hardening checks (issue 7). Not part of the test suite.

    python bench/soak_runtime.py soak [--duration 300] [--concurrency 4] [--connections 12]
    python bench/soak_runtime.py fuzz [--examples 2000]

``soak``: the CI load test (tests/hardening/test_runtime_load.py) for longer: a
dev-mode server in its own process, wrk on the good path, a chaos process with
bad, failing, oversized, half-sent and abandoned requests, the exact-limit probe
before and after, and RSS sampled throughout. Prints the figures as JSON and
exits 1 when a check fails (the same checks as the test).

``fuzz``: the fuzz and tamper suites with ``RUNTIME_FUZZ_EXAMPLES`` examples per
property; each property prints ``[runtime-fuzz] NAME[MODE]: N cases``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run_soak(args: argparse.Namespace) -> int:
    from tests.hardening._runtime_load import probe_limit, soak
    from tests.hardening._runtime_proc import ServerProcess

    server = ServerProcess("dev", concurrency=args.concurrency, body_timeout=2.0)
    try:
        before = probe_limit(server, args.concurrency)
        report = soak(server, args.duration, args.connections, args.chaos_threads)
        after = probe_limit(server, args.concurrency)
        report.update(probe_before=before, probe_after=after, alive=server.alive())
        report["ping"] = server.ping()
        report["log_errors"] = server.unexpected_errors()[:20]
    finally:
        server.stop()
    failures = _failures(report, args.concurrency, args.connections)
    report["failures"] = failures
    print(json.dumps(report, indent=1, default=str))
    return 1 if failures else 0


def _failures(report: dict, concurrency: int, connections: int) -> list[str]:
    wrk, chaos, rss = report["wrk"], report["chaos"], report["rss_kb"]
    seen_429 = wrk["429"] + sum(v for k, v in chaos["counts"].items() if k.endswith(":429"))
    # deliberate disconnects, plus one request per wrk connection in flight when wrk stops
    abandoned = chaos["counts"].get("disconnect:None", 0) + connections
    checks = {
        "wrk saw only 200/429 and no socket errors": wrk["other"] == 0 and wrk["errors"] == 0,
        "no unexpected chaos status": chaos["unexpected_total"] == 0,
        "/_ping always answered": "ping_failed:None" not in chaos["counts"],
        "in flight never above the limit": report["max_in_flight"] <= concurrency,
        "in flight back to 0": report["drained"],
        "server 429s match client 429s": 0 <= report["rejected_server"] - seen_429 <= abandoned,
        "RSS bounded": rss["end"] - rss["warm"] < max(rss["warm"] // 2, 32 * 1024),
        "limit exact before": _exact(report["probe_before"], concurrency),
        "limit exact after": _exact(report["probe_after"], concurrency),
        "alive and answering": report["alive"] and report["ping"],
        "no ERROR in the server log": not report["log_errors"],
    }
    return [name for name, ok in checks.items() if not ok]


def _exact(probe: dict, concurrency: int) -> bool:
    return (
        probe["reached_limit"]
        and probe["at_limit"][0] == 429
        and probe["below_limit"] == 200
        and probe["holders"] == [200] * concurrency
    )


def run_fuzz(args: argparse.Namespace) -> int:
    env = {**os.environ, "RUNTIME_FUZZ_EXAMPLES": str(args.examples)}
    argv = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    argv += ["tests/hardening/test_runtime_fuzz.py"]
    argv += ["tests/hardening/test_runtime_tamper.py"]
    return subprocess.call(argv, cwd=ROOT, env=env)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--duration", type=float, default=300.0)
    s.add_argument("--concurrency", type=int, default=4)
    s.add_argument("--connections", type=int, default=12)
    s.add_argument("--chaos-threads", type=int, default=2)
    f = sub.add_parser("fuzz")
    f.add_argument("--examples", type=int, default=2000)
    args = p.parse_args()
    return run_soak(args) if args.what == "soak" else run_fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
