"""POST /imports: load a dataset in the interchange format (admin only); all or nothing.

Limits (issue #12): the key is checked before the upload is read (``api.limits``), the upload is
capped (``GRIDGOV_MAX_UPLOAD_BYTES``), a zip may hold at most ``MAX_ZIP_ENTRIES`` files expanding to
at most ``MAX_EXPANDED_BYTES`` (counted while unpacking, not trusted from the archive), a
GeoPackage's views are refused. Error messages name the upload, never the server's temporary folder.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from api import offload
from api.security import AdminDep
from geo.errors import GridgovError, ImportRejected, InvalidInput, TooLarge
from geo.locate import data_extent

router = APIRouter(tags=["data"])
MAX_ZIP_ENTRIES = 100
MAX_EXPANDED_BYTES = 1_000_000_000


def _unpack(upload_name: str, payload: bytes, folder: Path) -> Path:
    """The path to read: the GeoPackage itself, or the folder a zip of layer files unpacks to."""
    suffix = Path(upload_name).suffix.lower()
    if suffix == ".gpkg":
        target = folder / "upload.gpkg"
        target.write_bytes(payload)
        return target
    if suffix == ".zip":
        archive = folder / "upload.zip"
        archive.write_bytes(payload)
        try:
            with zipfile.ZipFile(archive) as zf:
                _unzip(zf, folder / "layers")
        except zipfile.BadZipFile:
            raise InvalidInput("the .zip upload is not a valid zip archive", field="file") from None
        return folder / "layers"
    raise InvalidInput("upload a GeoPackage (.gpkg) or a .zip of GeoJSON/Shapefile/CSV layers", field="file")


def _unzip(zf: zipfile.ZipFile, target: Path) -> None:
    """Flatten the archive's files into ``target``, within the entry and expanded-size limits."""
    entries = [info for info in zf.infolist() if not info.is_dir()]
    if len(entries) > MAX_ZIP_ENTRIES:
        raise InvalidInput(f"the .zip holds {len(entries)} files; at most {MAX_ZIP_ENTRIES} are accepted",
                           field="file", zh=f"zip 文件含 {len(entries)} 个文件，最多接受 {MAX_ZIP_ENTRIES} 个")
    target.mkdir(exist_ok=True)
    expanded = 0
    for info in entries:
        name = PurePosixPath(info.filename.replace("\\", "/")).name  # flatten: no paths from the archive
        if name in ("", ".", ".."):
            raise InvalidInput(f"the .zip has an entry without a file name ({info.filename!r})", field="file",
                               zh=f"zip 文件中的条目 {info.filename!r} 没有文件名")
        with zf.open(info) as source, (target / name).open("wb") as out:
            while chunk := source.read(1 << 20):
                expanded += len(chunk)
                if expanded > MAX_EXPANDED_BYTES:
                    raise TooLarge(f"the .zip expands to more than {MAX_EXPANDED_BYTES:,} bytes", field="file",
                                   zh=f"zip 文件解压后超过 {MAX_EXPANDED_BYTES:,} 字节")
                out.write(chunk)


def _without_paths(exc: GridgovError, folder: str, upload: str) -> GridgovError:
    """``exc`` with the server's temporary folder replaced by the upload's name."""
    def clean(text: str) -> str:
        return re.sub(re.escape(folder) + r"[^\s:'\")]*", upload, text)

    exc.message = clean(exc.message)
    exc.args = (exc.message,)
    if exc.zh:
        exc.zh = clean(exc.zh)
    if isinstance(exc, ImportRejected):
        exc.problems = [replace(p, feature=clean(p.feature), reason=clean(p.reason)) for p in exc.problems]
    return exc


@router.post("/imports", status_code=201, summary="Import a dataset (admin)")
async def import_upload(
    request: Request,
    _: AdminDep,
    file: Annotated[UploadFile, File(description="A .gpkg, or a .zip of units/buildings/stations files.")],
    author: Annotated[str, Form(min_length=1, max_length=200)],
    valid_from: Annotated[dt.date, Form(description="First day the data is valid.")],
    crs: Annotated[str | None, Form(description="Source CRS when the files declare none.")] = None,
    gcj02: Annotated[bool, Form(description="Coordinates are GCJ-02 (AMap/Gaode).")] = False,
    document_ref: Annotated[str | None, Form(max_length=200)] = None,
) -> dict[str, Any]:
    """Validate and load the upload in one transaction; any problem is reported and nothing written."""
    payload = await file.read()
    settings = request.app.state.settings
    upload = Path(file.filename or "upload").name
    with tempfile.TemporaryDirectory() as tmp:
        try:
            source = await run_in_threadpool(_unpack, file.filename or "", payload, Path(tmp))
            del payload
            # In this process: in a forkserver child, reading a GeoPackage failed (a pyarrow import of
            # pyogrio) in some runs, so imports are not time-boxed yet (the admin role and the caps hold).
            summary = await run_in_threadpool(offload.import_file, settings.database_url, str(source), crs,
                                              gcj02, author, valid_from, document_ref)
        except GridgovError as exc:
            raise _without_paths(exc, tmp, upload) from None

    def extent() -> None:
        with request.app.state.engine.connect() as conn:
            request.app.state.extent = data_extent(conn)

    await run_in_threadpool(extent)
    return summary
