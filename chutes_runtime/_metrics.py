"""Request counters and durations, rendered in the Prometheus text format (no client library)."""

from __future__ import annotations

import time

__all__ = ["Metrics"]


class Metrics:
    """Per-cord request counts by status, latency sums, and the in-flight gauge."""

    def __init__(self, chute_id: str, concurrency: int) -> None:
        self.chute_id, self.concurrency = chute_id, concurrency
        self.in_flight = 0
        self.requests: dict[tuple[str, int], int] = {}
        self.seconds: dict[str, float] = {}
        self.last_request: dict[str, float] = {}
        self.rejected = 0

    def observe(self, function: str, status: int, started: float) -> None:
        now = time.monotonic()
        key = (function, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.seconds[function] = self.seconds.get(function, 0.0) + (now - started)
        self.last_request[function] = time.time()

    def conn_stats(self) -> dict:
        used = self.in_flight
        return {
            "concurrency": self.concurrency,
            "in_flight": used,
            "available": max(0, self.concurrency - used),
            "utilization": round(used / self.concurrency, 4) if self.concurrency else 0.0,
        }

    def render(self) -> str:
        label = f'chute_id="{self.chute_id}"'
        lines = [
            "# HELP total_requests Requests served per cord and status.",
            "# TYPE total_requests counter",
        ]
        for (function, status), count in sorted(self.requests.items()):
            lines.append(
                f'total_requests{{{label},function="{function}",status="{status}"}} {count}'
            )
        lines += _per_cord(
            ("request_duration_seconds_sum", "counter", "Seconds spent per cord."),
            label,
            {f: f"{total:.6f}" for f, total in self.seconds.items()},
        )
        lines += _per_cord(
            ("last_request_timestamp", "gauge", "Unix time of each cord's last request."),
            label,
            {f: f"{stamp:.3f}" for f, stamp in self.last_request.items()},
        )
        lines += [
            "# HELP requests_in_flight Cord requests being served now.",
            "# TYPE requests_in_flight gauge",
            f"requests_in_flight{{{label}}} {self.in_flight}",
            "# HELP requests_rejected_total Requests refused with 429.",
            "# TYPE requests_rejected_total counter",
            f"requests_rejected_total{{{label}}} {self.rejected}",
        ]
        return "\n".join(lines) + "\n"


def _per_cord(metric: tuple[str, str, str], label: str, values: dict[str, str]) -> list[str]:
    """The HELP and TYPE lines of ``(name, type, help)``, then one sample per cord."""
    name, kind, help_text = metric
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for function, value in sorted(values.items()):
        lines.append(f'{name}{{{label},function="{function}"}} {value}')
    return lines
