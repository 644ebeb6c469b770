"""A cord that answers with a file (starlette ``FileResponse``), written to the data folder."""

import csv
import os
import tempfile
from typing import Annotated

import msgspec
from common.images import USERNAME, base_image
from starlette.responses import FileResponse

from chutes_build import Chute

image = (
    base_image("csv-report", readme="CSV reports")
    .with_env("REPORT_DIR", "/app/data")
    .run_command("echo 'csv report' > /app/data/banner.txt")
)

chute = Chute(
    username=USERNAME, name="csv-report", image=image, concurrency=4, readme="CSV reports"
)


class ReportRequest(msgspec.Struct, kw_only=True):
    rows: Annotated[int, msgspec.Meta(ge=1, le=10000)] = 10
    title: str = "squares"


def report_dir() -> str:
    """``$REPORT_DIR`` (``/app/data`` in the image), else a temporary folder."""
    folder = os.environ.get("REPORT_DIR", "")
    if folder and os.path.isdir(folder) and os.access(folder, os.W_OK):
        return folder
    return tempfile.gettempdir()


def write_report(folder: str, rows: int, title: str) -> str:
    path = os.path.join(folder, f"{title}-{rows}.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["n", title])
        writer.writerows([n, n * n] for n in range(rows))
    return path


@chute.on_startup()
async def prepare(self):
    self.report_dir = report_dir()


@chute.cord(public_api_path="/report", output_content_type="text/csv")
async def report(self, request: ReportRequest) -> FileResponse:
    """Write a CSV of ``rows`` squares and send it as an attachment."""
    title = "".join(c for c in request.title if c.isalnum() or c in "-_") or "report"
    path = write_report(getattr(self, "report_dir", None) or report_dir(), request.rows, title)
    return FileResponse(path, media_type="text/csv", filename=os.path.basename(path))
