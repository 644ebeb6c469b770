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
        lines += [
            "# HELP request_duration_seconds_sum Seconds spent per cord.",
            "# TYPE request_duration_seconds_sum counter",
        ]
        for function, total in sorted(self.seconds.items()):
            lines.append(
                f'request_duration_seconds_sum{{{label},function="{function}"}} {total:.6f}'
            )
        lines += [
            "# HELP last_request_timestamp Unix time of each cord's last request.",
            "# TYPE last_request_timestamp gauge",
        ]
        for function, stamp in sorted(self.last_request.items()):
            lines.append(f'last_request_timestamp{{{label},function="{function}"}} {stamp:.3f}')
        lines += [
            "# HELP requests_in_flight Cord requests being served now.",
            "# TYPE requests_in_flight gauge",
            f"requests_in_flight{{{label}}} {self.in_flight}",
            "# HELP requests_rejected_total Requests refused with 429.",
            "# TYPE requests_rejected_total counter",
            f"requests_rejected_total{{{label}}} {self.rejected}",
        ]
        return "\n".join(lines) + "\n"
