"""Impact reports rendered from :class:`geo.impact.ImpactReport`: HTML, PDF (A4), CSV and JSON.

Every form renders the same model, computed once by :func:`geo.impact.compute_impact`. The HTML page
is self-contained (styles, images and the interactive map's script inlined); the PDF is the same
page laid out for A4 by WeasyPrint, with a CJK font (Debian: fonts-noto-cjk).
"""

from maps.report.labels import LANGS
from maps.report.render import FORMATS, render, render_csv, render_html, render_json, render_pdf

__all__ = ["FORMATS", "LANGS", "render", "render_csv", "render_html", "render_json", "render_pdf"]
