"""POST /imports: load a dataset in the interchange format (admin only); all or nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from api.security import AdminDep
from geo.errors import InvalidInput
from geo.importer import import_dataset
from geo.io import read_dataset
from geo.locate import data_extent

router = APIRouter(tags=["data"])


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
                names = [n for n in zf.namelist() if not n.endswith("/")]
                for name in names:
                    flat = folder / "layers" / Path(name).name  # flatten: no paths from the archive
                    flat.parent.mkdir(exist_ok=True)
                    flat.write_bytes(zf.read(name))
        except zipfile.BadZipFile:
            raise InvalidInput("the .zip upload is not a valid zip archive", field="file") from None
        return folder / "layers"
    raise InvalidInput("upload a GeoPackage (.gpkg) or a .zip of GeoJSON/Shapefile/CSV layers", field="file")


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

    def load() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            source = _unpack(file.filename or "", payload, Path(tmp))
            dataset = read_dataset(source, crs=crs, gcj02=gcj02)
            summary = import_dataset(request.app.state.engine, dataset, author=author, valid_from=valid_from,
                                     document_ref=document_ref)
        with request.app.state.engine.connect() as conn:
            request.app.state.extent = data_extent(conn)
        return summary.as_dict()

    return await run_in_threadpool(load)
