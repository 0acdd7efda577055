"""Impact reports of boundary changes: what a move does to residents, workload and access to services.

:func:`compute_impact` builds one :class:`ImpactReport` for a proposal (draft or applied); the
renderers in :mod:`maps.report` turn it into HTML, PDF and CSV, the API returns it as JSON.
"""

from geo.impact.compute import compute_impact
from geo.impact.model import ImpactReport, Norms

__all__ = ["ImpactReport", "Norms", "compute_impact"]
