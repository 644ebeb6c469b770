"""The runtime's settings: read once at the entry point, passed down as one struct."""

from __future__ import annotations

import msgspec

__all__ = ["Settings"]

MiB = 1024 * 1024


class Settings(msgspec.Struct, kw_only=True):
    """Everything the server reads from its command line and environment.

    ``dev`` serves plain JSON on the cords' paths and public paths with no
    signatures or encryption; production mode (the default) speaks the
    platform's protocol (CHUTES_API.md §6).
    """

    target: str
    dev: bool = False
    host: str = "0.0.0.0"
    port: int = 8000
    max_body_bytes: int = 64 * MiB
    #: The h1 protocol closes a connection (408) whose body stalls this long between reads.
    body_timeout_s: float = 60.0
    threads: int | None = None
    miner_ss58: str | None = None
    validator_ss58: str | None = None
    #: Requests from 127.0.0.1 skip signatures and encryption (the SDK's rule).
    trust_localhost: bool = True
    nonce_window_s: int = 540
    launch_jwt: str | None = None
    external_host: str | None = None
    port_mappings: list[dict] = msgspec.field(default_factory=list)
    #: The deploy key the container was started for (``$CHUTES_BUILD_DEPLOY_KEY``, set
    #: by the local target); ``GET /_ping`` reports it with the chute's name.
    deploy_key: str | None = None
    log_level: str = "info"
    #: ``"h1"``: the runtime's own HTTP/1.1 protocol; ``"h11"``: uvicorn's h11 one.
    http: str = "h1"
    #: Time limit of a non-streaming cord call (504 past it), as the SDK's 1800 s;
    #: ``None``: no limit. ``cord_timeouts`` sets it per cord (by function name).
    cord_timeout_s: float | None = 1800.0
    cord_timeouts: dict[str, float] = msgspec.field(default_factory=dict)
    #: The event loop stalled this long (an async cord that blocks) is logged.
    loop_lag_warn_s: float = 1.0
    #: Repeated warnings (a stalled loop, accept errors) are logged once per interval.
    warn_interval_s: float = 10.0
    #: dev mode: run this job (``@chute.job`` name; default: the only one) with this JSON file
    job_data_path: str | None = None
    job_method: str | None = None
    #: dev mode: how long a code reload's import may take before it is answered 504
    reload_timeout_s: float = 30.0
    #: Bind the port with ``SO_REUSEPORT``: a replacement server (the local target's next
    #: container of this chute) listens beside this one until this one stops.
    reuse_port: bool = False

    def pool_size(self, concurrency: int) -> int:
        return self.threads or max(4, concurrency + 1)

    def timeout_for(self, cord: str) -> float | None:
        seconds = self.cord_timeouts.get(cord, self.cord_timeout_s)
        return seconds if seconds else None
