"""Content-Security-Policies of the pages gridgov renders: the planner map and the impact report.

Only the page's own inline scripts may run, named by their hash, so a string that slipped through
escaping still cannot execute. The report's interactive map is an ``<iframe srcdoc>``: it inherits
the report's policy, so the report's policy lists the map's scripts.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

_SCRIPT = re.compile(r"<script(\s[^>]*)?>(.*?)</script>", re.S | re.I)
_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"')


def script_hashes(document: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for every non-empty inline script of ``document``."""
    out = set()
    for match in _SCRIPT.finditer(document):
        attributes, body = match.group(1) or "", match.group(2)
        if body.strip() and "src=" not in attributes:
            digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
            out.add(f"'sha256-{digest}'")
    return sorted(out)


def map_policy(page: str) -> str:
    """The planner map: its own files, inline scripts by hash, tiles from any https server."""
    scripts = " ".join(["'self'", *script_hashes(page)])
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def report_policy(interactive_map: str | None) -> str:
    """The report (self-contained: nothing is fetched): the interactive map's scripts by hash, data: images."""
    scripts = " ".join(script_hashes(interactive_map or "")) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src data:; "
            "font-src data:; object-src 'none'; base-uri 'none'; form-action 'none'")


def policy_in(page: str) -> str | None:
    """The policy a rendered page declares in its ``<meta http-equiv>`` (to send it as a header too)."""
    match = _META.search(page[:4096])
    return html.unescape(match.group(1)) if match else None
