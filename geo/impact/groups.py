"""The "居民小组调整" section of the impact report: which residents' groups a boundary change splits or moves.

A group is *unchanged* when none of its buildings move, *moves whole* when all of them go to the same
community, and is *split* when only some go (the groups of both communities are then re-proposed: see
:mod:`geo.groups`, which keeps every group still whole). Only stored groups are reported.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection

from geo.groups.service import stored_groups


def groups_adjustment(conn: Connection, moved: pd.DataFrame) -> list[dict[str, Any]]:
    """Per community losing buildings (``moved``: code, community_before, community_after), its groups' fate."""
    if not len(moved) or "community_before" not in moved:
        return []
    out = []
    destination = dict(zip(moved["code"], moved["community_after"], strict=True))
    for community in sorted(set(moved["community_before"].dropna())):
        groups = stored_groups(conn, str(community), None)
        if not groups:
            continue
        unchanged, whole, split = [], [], []
        for g in groups:
            members = list(g["building_codes"])
            going = [destination[m] for m in members if m in destination]
            if not going:
                unchanged.append(g["code"])
            elif len(going) == len(members) and len(set(going)) == 1:
                whole.append({"code": g["code"], "name": g["name"], "to": going[0]})
            else:
                split.append({"code": g["code"], "name": g["name"], "moving": len(going), "buildings": len(members)})
        out.append({
            "community_code": str(community), "groups": len(groups), "unchanged": len(unchanged),
            "moving_whole": whole, "split": split,
            "text": {
                "zh": f"{community}：共{len(groups)}个居民小组，{len(unchanged)}个不变，{len(whole)}个整体划出，"
                      f"{len(split)}个被分开（需重新划分，其余小组保持不变）。",
                "en": f"{community}: {len(groups)} residents' groups; {len(unchanged)} unchanged, {len(whole)} "
                      f"move whole, {len(split)} are split (to be re-proposed; the others stay as they are).",
            },
        })
    return out
