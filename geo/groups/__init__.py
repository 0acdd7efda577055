"""Residents' groups (居民小组) and their leaders (居民小组长 / 楼栋长).

* :mod:`.partition` — grouping a community's buildings within a household band, contiguous and compact,
  keeping existing groups whole when re-proposing;
* :mod:`.service` — stored and versioned like units (``residents_groups``), read as of a date, re-proposed
  after a boundary change, exported.
"""

from geo.groups.partition import GroupBand
from geo.groups.service import (
    CommunityGroups,
    communities_touched,
    export_groups,
    propose_groups,
    read_groups,
    store_groups,
)

__all__ = ["CommunityGroups", "GroupBand", "communities_touched", "export_groups", "propose_groups", "read_groups",
           "store_groups"]
