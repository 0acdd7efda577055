"""The API definition as OpenAPI 3.0, the version OGC API Features declares (``conf/oas30``).

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); OGC clients and validators read 3.0. The
document is converted once (nullable types, single examples, boolean exclusive bounds) and the
items parameters are declared as Part 1 defines them (``bbox`` an array, ``style: form``,
``explode: false``). Every collection also gets its own items path listing its queryables, so
the definition names every parameter the server accepts.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from geo.feature_schema import COLLECTIONS

OPENAPI_VERSION = "3.0.3"
ITEMS_PATH = "/collections/{collectionId}/items"
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def _schema_30(schema: Any) -> Any:
    """One JSON Schema 2020-12 object as an OpenAPI 3.0 schema object."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            out[key] = {k: _schema_30(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _schema_30(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_schema_30(v) for v in value]
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key in ("contentMediaType", "contentEncoding", "$schema", "$id"):
            if key == "contentMediaType" and out.get("type") == "string":
                out.setdefault("format", "binary")
        else:
            out[key] = value
    types = out.get("type")
    if isinstance(types, list):
        rest = [t for t in types if t != "null"]
        out["type"] = rest[0] if len(rest) == 1 else rest
        if "null" in types:
            out["nullable"] = True
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out.update({k: v for k, v in rest[0].items() if k not in out or k == "type"})
            elif len(rest) == 1:
                out["allOf"] = rest
            else:
                out[key] = rest
            out["nullable"] = True
    return out


_HOISTED: dict[str, Any] = {}


def _media_30(content: dict[str, Any]) -> None:
    for media in content.values():
        if isinstance(media, dict) and "schema" in media:
            # A model's own schema inlined by a route (openapi_extra) keeps its sub-models in $defs;
            # 3.0 has no $defs, so they move to components (refs already point there).
            _HOISTED.update(media["schema"].pop("$defs", {}) if isinstance(media["schema"], dict) else {})
            media["schema"] = _schema_30(media["schema"])


def _operation_30(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if "schema" in parameter:
            parameter["schema"] = _schema_30(parameter["schema"])
    body = operation.get("requestBody")
    if isinstance(body, dict):
        _media_30(body.get("content", {}))
    for response in operation.get("responses", {}).values():
        if isinstance(response, dict):
            _media_30(response.get("content", {}))


def _ogc_items_parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        name = parameter.get("name")
        if name == "bbox":
            parameter["schema"] = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
        if name in ("bbox", "limit", "datetime", "offset"):
            parameter.update({"style": "form", "explode": False, "required": False})


def _collection_paths(doc: dict[str, Any]) -> None:
    """``/collections/<id>/items`` for every collection, with its public queryables as parameters."""
    template = doc["paths"].get(ITEMS_PATH, {}).get("get")
    if template is None:
        return
    for coll in COLLECTIONS.values():
        operation = copy.deepcopy(template)
        operation["operationId"] = f"{template.get('operationId', 'items')}_{coll.id}"
        operation["summary"] = f"Features of {coll.title}"
        operation["parameters"] = [p for p in operation["parameters"] if p.get("name") != "collectionId"]
        for f in coll.queryable("anonymous").values():
            schema: dict[str, Any] = {"type": "integer"} if f.type == "integer" else {"type": "string"}
            if f.type == "date":
                schema["format"] = "date"
            operation["parameters"].append({
                "name": f.name, "in": "query", "required": False, "style": "form", "explode": True,
                "description": f"{f.title}: features whose {f.name} equals the value (repeat for any of several).",
                "schema": schema,
            })
        doc["paths"][f"/collections/{coll.id}/items"] = {"get": operation}


def to_openapi30(doc: dict[str, Any]) -> dict[str, Any]:
    """A FastAPI (3.1) document converted to OpenAPI 3.0."""
    doc = copy.deepcopy(doc)
    doc["openapi"] = OPENAPI_VERSION
    doc.pop("webhooks", None)
    doc.get("info", {}).pop("summary", None)  # 3.1 only
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            if isinstance(operation, dict):
                _operation_30(operation)
                if path.startswith("/collections/") and path.endswith("/items"):
                    _ogc_items_parameters(operation)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in _HOISTED.items():
        schemas.setdefault(name, schema)
    for name, schema in schemas.items():
        schemas[name] = _schema_30(schema)
    _collection_paths(doc)
    return doc


def install(app: FastAPI) -> None:
    """Serve the 3.0 document at ``/openapi.json`` (built once, on first request)."""
    make_31 = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None or app.openapi_schema.get("openapi") != OPENAPI_VERSION:
            app.openapi_schema = None
            app.openapi_schema = to_openapi30(make_31())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
