"""``next``/``prev`` links for paged lists, built from the request so every parameter stays encoded."""

from __future__ import annotations

from typing import Any

from fastapi import Request


def page_links(request: Request, *, offset: int, limit: int, matched: int) -> list[dict[str, Any]]:
    """Links to the next and previous pages (present only where there is such a page)."""
    links: list[dict[str, Any]] = []
    params = dict(request.query_params)
    if offset + limit < matched:
        links.append({"rel": "next", "href": str(request.url.replace_query_params(
            **{**params, "offset": offset + limit, "limit": limit}))})
    if offset > 0:
        links.append({"rel": "prev", "href": str(request.url.replace_query_params(
            **{**params, "offset": max(0, offset - limit), "limit": limit}))})
    return links
