"""Boundary reassignment: move grids or a drawn area to a neighbour, split a grid, merge units; safely.

``what_if`` previews a change and stores nothing; ``create_proposal`` stores a draft, which
``edit_proposal`` changes and ``withdraw_proposal`` withdraws; ``preview_proposal`` shows what it does;
``apply_proposal`` writes it atomically as new versions (a future date schedules it);
``revert_proposal`` reverses it (恢复) as a further change and ``cancel_proposal`` erases it (撤销);
``rebase_proposal`` re-pins a draft that other changes made stale. See :mod:`geo.reassign.plan` for
how a move is computed, :mod:`geo.reassign.reshape` for splits and merges, :mod:`geo.reassign.undo`
and :mod:`geo.reassign.restack` for the history.
"""

from geo.reassign.model import Plan, ProposalRequest
from geo.reassign.service import (
    apply_proposal,
    count_all_proposals,
    create_proposal,
    create_proposals,
    edit_proposal,
    list_proposals,
    preview_proposal,
    rebase_proposal,
    what_if,
    withdraw_proposal,
)
from geo.reassign.undoing import cancel_proposal, revert_proposal

__all__ = [
    "Plan",
    "ProposalRequest",
    "apply_proposal",
    "cancel_proposal",
    "count_all_proposals",
    "create_proposal",
    "create_proposals",
    "edit_proposal",
    "list_proposals",
    "preview_proposal",
    "rebase_proposal",
    "revert_proposal",
    "what_if",
    "withdraw_proposal",
]
