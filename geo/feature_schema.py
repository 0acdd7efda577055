"""What each OGC collection holds: its fields, their types, and who may see them.

One declaration serves the items (which columns to read), the queryables and the schema (JSON
Schema per collection), and the property filters (which query parameters are allowed, and how
to parse them). Residents' data on buildings (address, household counts, elderly, children,
special care) is personal information under the PIPL: it is ``private`` and shown only to
callers with the planner role; public reads see population aggregated to grids and above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geo.errors import NotFound

PRIVILEGED_ROLES = frozenset({"planner", "admin"})


@dataclass(frozen=True)
class Field:
    """One property of a collection's features."""

    name: str
    type: str  # "string", "integer" or "date"
    title: str
    private: bool = False  # residents' personal data: planners only
    column: bool = True  # stored in the table (queryable); False for totals computed from buildings
    nullable: bool = True


@dataclass(frozen=True)
class Collection:
    """One OGC collection: which table, which rows, which fields."""

    id: str
    title: str
    description: str
    table: str
    geometry: str  # GeoJSON geometry type
    fields: tuple[Field, ...]
    level: str | None = None

    @property
    def is_unit(self) -> bool:
        return self.level is not None

    def visible(self, role: str) -> tuple[Field, ...]:
        """The fields ``role`` may see (all of them for planners and admins)."""
        full = role in PRIVILEGED_ROLES
        return tuple(f for f in self.fields if full or not f.private)

    def columns(self, role: str) -> tuple[Field, ...]:
        """Visible fields stored as columns, except ``code`` (always read first)."""
        return tuple(f for f in self.visible(role) if f.column and f.name != "code")

    def totals(self, role: str) -> tuple[Field, ...]:
        """Visible fields computed from buildings."""
        return tuple(f for f in self.visible(role) if not f.column)

    def queryable(self, role: str) -> dict[str, Field]:
        """Fields a caller may filter on with ``?name=value``: visible stored columns."""
        return {f.name: f for f in self.visible(role) if f.column}


_CODE = Field("code", "string", "Code (统计用区划代码 / 编号)", nullable=False)
_VERSION = (
    Field("version", "integer", "Version of the feature (版本)", nullable=False),
    Field("valid_from", "date", "First day this version is valid (生效日期)", nullable=False),
    Field("valid_to", "date", "First day this version is no longer valid; null while current (失效日期)"),
)
_UNIT_FIELDS = (
    _CODE,
    Field("name", "string", "Name (名称)", nullable=False),
    Field("name_en", "string", "English name"),
    Field("level", "string", "Level: district, subdistrict, community, grid (层级)", nullable=False),
    Field("kind", "string", "Kind: street/town/township, urban/village (类型)"),
    Field("parent_code", "string", "Code of the parent unit (上级代码)"),
    *_VERSION,
    *(Field(name, "integer", title, column=False, nullable=False) for name, title in (
        ("residents", "Residents (常住人口)"),
        ("households", "Households (户数)"),
        ("buildings", "Buildings (楼栋数)"),
        ("elderly", "Residents aged 60+ (60岁以上)"),
        ("children", "Children under 14 (14岁以下)"),
        ("special_care", "Residents needing special care (特殊关爱对象)"),
        ("workers", "Community workers (社区工作者)"),
    )),
)
TOTAL_NAMES: tuple[str, ...] = tuple(f.name for f in _UNIT_FIELDS if not f.column)

COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection("subdistricts", "Sub-districts and towns (街道/乡镇)", "Township-level units with totals.",
                   "units", "MultiPolygon", _UNIT_FIELDS, level="subdistrict"),
        Collection("communities", "Communities and villages (社区/村)", "Village-level units with totals.",
                   "units", "MultiPolygon", _UNIT_FIELDS, level="community"),
        Collection("grids", "Grids (网格)", "Management grids with totals.", "units", "MultiPolygon",
                   _UNIT_FIELDS, level="grid"),
        Collection("buildings", "Buildings (楼栋)",
                   "Where residents live. Residents' data (address, households, residents, elderly, children, "
                   "special care, versions) needs the planner role; other callers see code, grid and location "
                   "(population is public as totals on grids).",
                   "buildings", "Point", (
                       _CODE,
                       Field("grid_code", "string", "Code of the grid the building is in (所属网格)"),
                       Field("address", "string", "Address (地址)", private=True),
                       *(Field(name, "integer", title, private=True) for name, title in (
                           ("households", "Households (户数)"),
                           ("residents", "Residents (常住人口)"),
                           ("elderly", "Residents aged 60+ (60岁以上)"),
                           ("children", "Children under 14 (14岁以下)"),
                           ("special_care", "Residents needing special care (特殊关爱对象)"),
                       )),
                       *(Field(f.name, f.type, f.title, private=True, nullable=f.nullable) for f in _VERSION),
                   )),
        Collection("stations", "Service stations (服务站点)",
                   "Party service centres, new-employment stations and more.", "stations", "Point", (
                       _CODE,
                       Field("name", "string", "Name (名称)", nullable=False),
                       Field("name_en", "string", "English name"),
                       Field("kind", "string", "Kind of station (类型)", nullable=False),
                       Field("capacity", "integer", "Capacity (容量)"),
                       Field("community_code", "string", "Community responsible for it (所属社区)"),
                       *_VERSION,
                   )),
    )
}


def get_collection(collection_id: str) -> Collection:
    """The collection of that id, or NotFound listing the valid ones."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"unknown collection {collection_id!r}; collections are {', '.join(COLLECTIONS)}", field="collectionId"
        ) from None


def _json_type(f: Field) -> dict[str, Any]:
    # One type per property, as ldproxy and tipg write it: GDAL's OAPIF driver reads only a plain
    # "type" (with "format": "date") to type its fields. Fields that may be null are the ones not
    # listed in "required".
    base: dict[str, Any] = {"type": "integer"} if f.type == "integer" else {"type": "string"}
    if f.type == "date":
        base["format"] = "date"
    return base


def json_schema(coll: Collection, role: str, *, schema_id: str, queryables: bool) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the features ``role`` sees: all properties, or the queryables."""
    fields = coll.queryable(role).values() if queryables else coll.visible(role)
    properties: dict[str, Any] = {
        "geometry": {"format": f"geometry-{coll.geometry.lower()}", "x-ogc-role": "primary-geometry",
                     "title": "Geometry (EPSG:4326 / CRS84)"},
    }
    for f in fields:
        properties[f.name] = {"title": f.title, **_json_type(f)}
        if f.name == "code":
            properties[f.name]["x-ogc-role"] = "id"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": coll.title,
        "description": coll.description,
        "properties": properties,
        "required": [f.name for f in fields if not f.nullable],
        "additionalProperties": not queryables,
    }
