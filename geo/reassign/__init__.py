"""Boundary reassignment: move grids or a drawn area to a neighbour, split a grid, merge units; safely.

``create_proposal`` checks and stores a draft; ``preview_proposal`` shows what it does;
``apply_proposal`` writes it atomically as new versions; ``revert_proposal`` undoes it as a
further change; ``rebase_proposal`` re-pins a draft that other changes made stale. See
:mod:`geo.reassign.plan` for how a move is computed and :mod:`geo.reassign.reshape` for splits and
merges.
"""

from geo.reassign.model import Plan, ProposalRequest
from geo.reassign.service import (
    apply_proposal,
    create_proposal,
    create_proposals,
    list_proposals,
    preview_proposal,
    rebase_proposal,
    revert_proposal,
    what_if,
)

__all__ = [
    "Plan",
    "ProposalRequest",
    "apply_proposal",
    "create_proposal",
    "create_proposals",
    "list_proposals",
    "preview_proposal",
    "rebase_proposal",
    "revert_proposal",
    "what_if",
]
