"""Interchange files <-> GeoDataFrames: GeoPackage, GeoJSON, Shapefile and CSV, any CRS, GCJ-02.

Reading normalises what files disagree on (truncated Shapefile field names, numbers stored as text,
codes read as numbers, CRS, Z coordinates) and never judges the content: anything wrong with the
data itself is a :class:`~geo.errors.Problem` for :func:`geo.validate.validate_dataset` to report
with all the others. Only a file that cannot be read at all raises :class:`~geo.errors.InvalidInput`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.cells import restore_cell, safe_cell
from geo.crs import WGS84, geometries_gcj02_to_wgs84, parse_crs
from geo.errors import InvalidInput, Problem
from geo.interchange import LAYERS, LayerSpec

FORMATS = ("gpkg", "geojson", "csv", "shp")
CODE_FIELDS = ("code", "parent_code", "grid_code", "community_code")
_FOLDER_SUFFIXES = (".geojson", ".json", ".shp", ".csv")
_LON = ("lon", "lng", "longitude", "x")
_LAT = ("lat", "latitude", "y")
_SHP_FIELD_LENGTH = 10


@dataclass
class Dataset:
    """The three interchange layers in EPSG:4326, and problems already found while reading them."""

    units: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer by its interchange name (``units``, ``buildings``, ``stations``)."""
        frame: gpd.GeoDataFrame = getattr(self, name)
        return frame


def feature_ids(frame: pd.DataFrame) -> np.ndarray:
    """How problems name each row: its code, or ``row N`` (1-based) when it has none."""
    rows = np.array([f"row {i}" for i in range(1, len(frame) + 1)], dtype=object)
    if "code" not in frame:
        return rows
    codes = frame["code"].astype(object)
    has = codes.notna().to_numpy() & (codes.astype(str).str.strip() != "").to_numpy()
    return np.where(has, codes.astype(str).to_numpy(dtype=object), rows)


def text_values(values: pd.Series) -> np.ndarray:
    """A column as stripped text, None where missing or blank (how codes and names are compared)."""
    raw = values.astype(object)
    text = raw.where(raw.isna(), raw.astype(str).str.strip())
    return cast(np.ndarray, text.where(text.notna() & (text != ""), None).to_numpy(dtype=object))


def read_dataset(path: str | Path, *, crs: str | None = None, gcj02: bool = False) -> Dataset:
    """Read a GeoPackage, or a folder of GeoJSON / Shapefile / CSV files, into EPSG:4326.

    ``crs`` declares (or overrides) the CRS of the source, as anything pyproj understands; CSV needs
    it. ``gcj02`` declares lon/lat in GCJ-02 (AMap/Gaode), which is converted to WGS84.
    """
    source = Path(path)
    if not source.exists():
        raise InvalidInput(f"{source} does not exist", field="path")
    declared = parse_crs(crs, field="crs") if crs is not None else None
    files = _layer_files(source)
    if "units" not in files:
        raise InvalidInput(f"{source} has no 'units' layer (expected units.gpkg layer or units.<ext> file)")
    problems: list[Problem] = []
    frames = {}
    for name, spec in LAYERS.items():
        raw = _read_layer(*files[name], problems) if name in files else _empty(spec)
        frames[name] = _normalise(raw, spec, declared, gcj02, problems)
    return Dataset(frames["units"], frames["buildings"], frames["stations"], problems)


def _layer_files(source: Path) -> dict[str, tuple[Path, str | None]]:
    if source.is_dir():
        found: dict[str, tuple[Path, str | None]] = {}
        for name in LAYERS:
            for suffix in _FOLDER_SUFFIXES:
                candidate = source / f"{name}{suffix}"
                if candidate.exists():
                    found[name] = (candidate, None)
                    break
        return found
    try:
        names = {str(row[0]) for row in pyogrio.list_layers(source)}
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "unreadable"
        raise InvalidInput(f"cannot read {source}: {exc}", field="path") from exc
    found = {name: (source, name) for name in LAYERS if name in names}
    views = sorted(name for name in found if name not in _feature_tables(source))
    if views:  # a view runs arbitrary SQL when read (a recursive query ran for 138 s)
        raise InvalidInput(f"layer(s) {', '.join(views)} of {source.name} are views, not feature tables; "
                           "only tables are read", field="path")
    return found


def _feature_tables(source: Path) -> set[str]:
    """The real tables of a GeoPackage (SQLite), opened read-only; empty for other formats."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
            conn.execute("PRAGMA query_only = 1")
            return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return set(LAYERS)  # not SQLite (another GDAL format): no views to fear


def _read_layer(file: Path, layer: str | None, problems: list[Problem]) -> gpd.GeoDataFrame:
    try:
        if file.suffix.lower() == ".csv":
            return _read_csv(file, problems)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(file, layer=layer, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - any parse failure of the file itself
        where = f"{file}" + (f" (layer {layer})" if layer else "")
        raise InvalidInput(f"cannot read {where}: {exc}", field="path") from exc


def _read_csv(file: Path, problems: list[Problem]) -> gpd.GeoDataFrame:
    frame = _csv_frame(file)
    layer = file.stem
    lower = {str(c).strip().lower(): c for c in frame.columns}
    ids = feature_ids(_rename_columns(frame, LAYERS.get(layer)))
    wkt_col = lower.get("geometry", lower.get("wkt"))
    lon_col = next((lower[c] for c in _LON if c in lower), None)
    lat_col = next((lower[c] for c in _LAT if c in lower), None)
    if wkt_col is not None:
        text = frame.pop(wkt_col).astype(object)
        cleaned = text.where(text.isna(), text.astype(str).str.replace(r"^\s*SRID=\d+;", "", regex=True))
        geoms = shapely.from_wkt(cleaned.to_numpy(dtype=object), on_invalid="ignore")
        bad = np.flatnonzero(text.notna().to_numpy() & shapely.is_missing(geoms))
        problems += [Problem(layer, ids[i], "geometry", f"unreadable WKT: {str(text.iloc[i])[:60]!r}") for i in bad]
        frame = frame.drop(columns=[c for c in (lon_col, lat_col) if c is not None])
    elif lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(frame.pop(lon_col), errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame.pop(lat_col), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(lon) | np.isnan(lat)
        problems += [Problem(layer, ids[i], "geometry", "lon/lat missing or not a number")
                     for i in np.flatnonzero(bad)]
        geoms = np.where(bad, None, shapely.points(np.nan_to_num(lon), np.nan_to_num(lat)))
    else:
        problems.append(Problem(layer, "*", "geometry",
                                "no geometry: expected a WKT column 'geometry' or 'wkt', or 'lon' and 'lat'"))
        geoms = np.full(len(frame), None, dtype=object)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index))


def _csv_frame(file: Path) -> pd.DataFrame:
    """All columns as text; UTF-8 (with or without BOM), falling back to GB18030 (Chinese Excel)."""
    try:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except UnicodeDecodeError:
        frame = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="gb18030")
    return frame.map(restore_cell)  # undo the formula guard of an export


def _empty(spec: LayerSpec) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in spec.columns},
                            geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)


def _rename_columns(frame: pd.DataFrame, spec: LayerSpec | None) -> pd.DataFrame:
    """Map differently-cased and Shapefile-truncated (10-character) names back to the spec's names."""
    if spec is None:
        return frame
    known = {c.lower(): c for c in spec.columns}
    known.update({c[:_SHP_FIELD_LENGTH].lower(): c for c in spec.columns if len(c) > _SHP_FIELD_LENGTH})
    renames = {c: known[str(c).lower()] for c in frame.columns if str(c).lower() in known}
    renames = {old: new for old, new in renames.items() if old != new and new not in frame.columns}
    return frame.rename(columns=renames)


def _normalise(
    raw: gpd.GeoDataFrame, spec: LayerSpec, crs: CRS | None, gcj02: bool, problems: list[Problem]
) -> gpd.GeoDataFrame:
    frame = _rename_columns(raw, spec).reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = _to_wgs84(frame, spec.name, crs, gcj02, problems)
    frame["geometry"] = shapely.force_2d(np.asarray(frame.geometry.values, dtype=object))
    for col in spec.columns:
        if col not in frame and frame.empty:
            frame[col] = pd.Series(dtype=object)
    for col in CODE_FIELDS:
        if col in frame:
            frame[col] = _codes(frame[col])
    for col in spec.integer_fields:
        if col in frame:
            frame[col] = _integers(frame[col])
    if "synthetic" in frame:
        frame["synthetic"] = _booleans(frame["synthetic"])
    return frame


def _to_wgs84(
    frame: gpd.GeoDataFrame, layer: str, crs: CRS | None, gcj02: bool, problems: list[Problem]
) -> gpd.GeoDataFrame:
    source = crs or frame.crs or (WGS84 if gcj02 or frame.empty else None)
    if source is None:
        problems.append(Problem(layer, "*", "geometry",
                                "the layer has no CRS: declare it (e.g. crs='EPSG:4326')"))
        return frame.set_crs(WGS84, allow_override=True)
    frame = frame.set_crs(source, allow_override=True)
    if gcj02 and not CRS(source).is_geographic:
        problems.append(Problem(layer, "*", "geometry", f"GCJ-02 data must be lon/lat, not {source}"))
    if not CRS(source).equals(WGS84, ignore_axis_order=True):
        frame = frame.to_crs(WGS84)
    if gcj02:
        frame["geometry"] = geometries_gcj02_to_wgs84(np.asarray(frame.geometry.values, dtype=object))
    return frame


def _codes(values: pd.Series) -> pd.Series:
    """Codes as text: numbers read from a file (520402, 520402.0) become '520402'; blanks become None."""
    def one(v: Any) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return pd.Series([one(v) for v in values.astype(object)], index=values.index, dtype=object)


def _integers(values: pd.Series) -> pd.Series:
    """Nullable integers when every value is a whole number; otherwise untouched, for validation."""
    raw = values.astype(object).where(values.notna(), None)
    numbers = pd.to_numeric(raw, errors="coerce")
    clean = (numbers.notna() | raw.isna()).all() and (numbers.dropna() % 1 == 0).all()
    return numbers.astype("Int64") if clean else values


def _booleans(values: pd.Series) -> pd.Series:
    """Flags from bools, 0/1 or text ('true', 'yes', '1'); blanks are False."""
    text = values.astype(object).where(values.notna(), "false").astype(str).str.strip().str.lower()
    return text.isin({"1", "1.0", "true", "t", "yes", "y"})


def write_dataset(dataset: Dataset, path: str | Path, *, fmt: str) -> Path:
    """Write the layers as a GeoPackage (``gpkg``) or a folder of ``geojson``, ``csv`` or ``shp`` files."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", field="fmt")
    target = Path(path)
    if fmt == "gpkg":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
    else:
        target.mkdir(parents=True, exist_ok=True)
    for name, spec in LAYERS.items():
        frame = _prepared(dataset.layer(name), spec)
        if fmt == "gpkg":
            frame.to_file(target, layer=name, driver="GPKG", engine="pyogrio", geometry_type=_geometry_type(spec))
        elif fmt == "csv":
            _write_csv(frame, target / f"{name}.csv")
        else:
            _write_ogr(frame, spec, target, name, fmt)
    return target


def _prepared(frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    out = frame.to_crs(WGS84) if frame.crs is not None and not frame.crs.equals(WGS84) else frame.copy()
    if "MultiPolygon" in spec.geometry_types:
        geoms = np.asarray(out.geometry.values, dtype=object)
        single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
        geoms[single] = shapely.multipolygons(geoms[single][:, None].tolist()) if single.any() else geoms[single]
        out["geometry"] = geoms
    return out.set_crs(WGS84, allow_override=True)


def _geometry_type(spec: LayerSpec) -> str:
    return "MultiPolygon" if "MultiPolygon" in spec.geometry_types else "Point"


def _write_ogr(frame: gpd.GeoDataFrame, spec: LayerSpec, folder: Path, name: str, fmt: str) -> None:
    if fmt == "shp":
        file = folder / f"{name}.shp"
        for sidecar in folder.glob(f"{name}.*"):
            sidecar.unlink()
        frame = frame.rename(columns={c: c[:_SHP_FIELD_LENGTH] for c in frame.columns if c != "geometry"})
        frame.to_file(file, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8",
                      geometry_type=_geometry_type(spec))
        return
    file = folder / f"{name}.geojson"
    file.unlink(missing_ok=True)
    frame.to_file(file, driver="GeoJSON", engine="pyogrio", geometry_type=_geometry_type(spec))


def _write_csv(frame: gpd.GeoDataFrame, file: Path) -> None:
    """WKT in ``geometry`` (full precision) and, for points, ``lon``/``lat``; UTF-8 with BOM for Excel."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for column in table.columns:  # text a spreadsheet would run as a formula gets a leading '
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column].dtype):
            table[column] = table[column].map(safe_cell)
    table["geometry"] = shapely.to_wkt(geoms, rounding_precision=-1)
    if len(geoms) and (shapely.get_type_id(geoms) == shapely.GeometryType.POINT).all():
        table["lon"], table["lat"] = shapely.get_x(geoms), shapely.get_y(geoms)
    table.to_csv(file, index=False, encoding="utf-8-sig", float_format="%.17g")
