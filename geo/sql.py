"""The few SQL fragments that differ between SpatiaLite and PostGIS.

Both use their spatial index: PostGIS through the GiST index that ``&&`` and ``<->`` use, SpatiaLite
through its R*Tree, which must be queried explicitly via the ``SpatialIndex`` virtual table.
Parameters are named ``:minx, :miny, :maxx, :maxy`` for boxes and ``:lon, :lat`` for points.
"""

from __future__ import annotations

from sqlalchemy import Connection


def is_sqlite(conn: Connection) -> bool:
    """True on SpatiaLite."""
    return conn.dialect.name == "sqlite"


def bbox_filter(conn: Connection, table: str, column: str = "geom") -> str:
    """A WHERE clause selecting rows of ``table`` whose geometry's box meets the query box."""
    if is_sqlite(conn):
        return (
            f"{table}.id IN (SELECT rowid FROM SpatialIndex WHERE f_table_name = '{table}' "
            f"AND f_geometry_column = '{column}' "
            "AND search_frame = BuildMbr(:minx, :miny, :maxx, :maxy, 4326))"
        )
    return f"{table}.{column} && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"


def point_sql(conn: Connection) -> str:
    """The query point ``(:lon, :lat)`` as a geometry in EPSG:4326."""
    return "MakePoint(:lon, :lat, 4326)" if is_sqlite(conn) else "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
