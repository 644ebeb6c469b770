"""``chutes-build run FILE.py:CHUTE [--dev]``: serve one chute in-process, no engine needed."""

from __future__ import annotations

import os

import typer


def run(
    target: str = typer.Argument(..., help="FILE.py:CHUTE (the module-level Chute variable)."),
    dev: bool = typer.Option(
        False, "--dev", help="Plain JSON on cord and public paths; no signatures or encryption."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    max_body_mb: float = typer.Option(64.0, "--max-body-mb", help="Larger request bodies get 413."),
    threads: int = typer.Option(
        None,
        "--threads",
        help="Worker threads for sync cords (default: concurrency + 1, at least 4).",
    ),
    log_level: str = typer.Option("info", "--log-level", help="Log level of the server."),
    job_data: str | None = typer.Option(
        None,
        "--job-data",
        "--dev-job-data-path",
        help="With --dev: run the chute's job with this JSON file's arguments.",
    ),
    job: str | None = typer.Option(
        None, "--job", "--dev-job-method", help="The job to run (default: the only one)."
    ),
) -> None:
    """Serve a chute's cords with the in-image runtime (the same server that images run)."""
    import logging

    from chutes_runtime import Runtime
    from chutes_runtime.__main__ import parse_settings

    argv = [
        target,
        "--host",
        host,
        "--port",
        str(port),
        "--max-body-mb",
        str(max_body_mb),
        "--log-level",
        log_level,
    ]
    argv += ["--dev"] if dev else []
    argv += ["--threads", str(threads)] if threads else []
    argv += _job_args(dev, job_data, job)
    settings = parse_settings(argv, dict(os.environ))
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    runtime = Runtime(settings)
    try:
        started = runtime.run()
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not started:
        raise typer.Exit(3)
    if runtime.job is not None and (runtime.job.outcome or {}).get("status") != "complete":
        raise typer.Exit(1)  # the job's outcome was printed


def _job_args(dev: bool, job_data: str | None, job: str | None) -> list[str]:
    if job_data is None and job is None:
        return []
    if not dev or job_data is None:
        from ..core import DefinitionError

        raise DefinitionError(
            "running a job locally needs --dev and --job-data FILE",
            file="<command line>",
            fix="e.g. chutes-build run FILE.py:chute --dev --job-data args.json",
        )
    return ["--dev-job-data-path", job_data] + (["--dev-job-method", job] if job else [])


def register(app: typer.Typer) -> None:
    app.command("run")(run)
