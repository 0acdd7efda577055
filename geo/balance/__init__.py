"""Population load balancing: load per community, suggested boundary moves, staffing, grid splits.

* :mod:`.load` — workload, ratio to the worker norm and flags, per community and sub-district;
* :mod:`.moves` — whole-grid moves between adjacent communities (a MIP, :mod:`.optimizer`), turned into
  draft proposals by :mod:`.drafts`;
* :mod:`.staffing` — new workers where they lower the worst load most;
* :mod:`.splits` — splits of grids above the household band, merges of tiny ones.
"""

from geo.balance.instance import BalanceOptions
from geo.balance.load import LoadOptions, LoadQuery, read_load
from geo.balance.moves import BalanceResult, Move, suggest_moves
from geo.balance.splits import Band, read_grid_plan
from geo.balance.staffing import allocate

__all__ = [
    "Band",
    "BalanceOptions",
    "BalanceResult",
    "LoadOptions",
    "LoadQuery",
    "Move",
    "allocate",
    "read_grid_plan",
    "read_load",
    "suggest_moves",
]
