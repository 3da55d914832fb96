"""GET /exports/{token}: the signed link answers with the workbook, or 403 / 410 / 404."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from member360.audit.log import audit
from member360.config import Settings
from member360.db import Database
from member360.exports.links import LinkExpired, LinkInvalid, read_token
from member360.exports.models import ExportJob, JobStatus
from member360.logs import bind

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=NO_STORE)


def download_endpoint(db: Database, settings: Settings):  # type: ignore[no-untyped-def]
    async def download(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            target = read_token(settings, token)
        except LinkExpired:
            return _refuse(410, "this download link has expired; request the export again")
        except LinkInvalid:
            return _refuse(403, "this download link is not valid")
        bind(org_id=target.org_id, operation="export.download")
        async with db.session(target.org_id) as session:
            job = (
                await session.execute(
                    select(ExportJob).where(
                        ExportJob.org_id == target.org_id,  # type: ignore[arg-type]
                        ExportJob.public_id == target.job_public_id,  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()
        if job is None or job.status != JobStatus.SUCCEEDED or not job.file_name:
            return _refuse(404, "no finished export for this link")
        if job.expires_at is not None and job.expires_at <= dt.datetime.now(dt.UTC):
            return _refuse(410, "this download link has expired; request the export again")
        path = Path(settings.export_dir) / job.file_name
        if not path.is_file():
            return _refuse(410, "this export's file is no longer kept; request it again")
        # Links travel by email and carry no credential: the actor is the link itself.
        await audit(db, job.org_id, "link", "export.downloaded", job.public_id, kind=job.kind)
        stamp = (job.finished_at or dt.datetime.now(dt.UTC)).strftime("%Y%m%d-%H%M")
        name = f"member360-{job.kind.lower().replace('_', '-')}-{stamp}.xlsx"
        return FileResponse(
            path,
            media_type=XLSX,
            filename=name,
            headers=NO_STORE,
            content_disposition_type="attachment",
        )

    return download
