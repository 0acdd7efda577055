"""Section 7: invariant and norm issues of a change, worded in Chinese and English.

Each kind of the reassignment preview's own warnings is re-derived here from the report's figures,
so that the report's warnings follow its norms and severities; the preview's warnings are kept
beside them in the report (``preview_warnings``, in both languages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geo.impact.model import Access, ImpactWarning, Norms, Severity, Text, UnitImpact


@dataclass
class Findings:
    """Facts the checks need beyond the unit figures."""

    from_name: str
    from_name_en: str
    to_name: str
    to_name_en: str
    outside_area_m2: float
    territory_touches_to: bool
    # (centre, its community, the community whose territory it stands in), each as (zh, en)
    centres_elsewhere: list[tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    # (centre, the retired community it belonged to, the community that takes it), each as (zh, en)
    centres_merged: list[tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    new_communities: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, name_en
    emptied_grids: list[tuple[str, str, str]] = field(default_factory=list)  # code, name, name_en
    stale: list[str] = field(default_factory=list)
    reverted_on: str | None = None
    cancelled: bool = False


def _w(code: str, severity: Severity, unit: str | None, zh: str, en: str) -> ImpactWarning:
    return ImpactWarning(code=code, severity=severity, unit_code=unit, message=Text(zh=zh, en=en))


def _unit_checks(unit: UnitImpact, norms: Norms) -> list[ImpactWarning]:
    """Issues of one unit after the change; a retired unit has none (that it ends empty is the point)."""
    if unit.role == "retired":
        return []
    out = []
    a = unit.after
    name, en = unit.name, unit.name_en or unit.name
    new = {c.flag for c in unit.crossings if c.change == "new"}
    if unit.role in ("from", "to", "new") and not a.contiguous:
        out.append(_w("not_contiguous", "error", unit.code, f"{name}调整后将分为{a.parts}块，不再连片。",
                      f"{en} would be in {a.parts} separate parts."))
    if unit.role == "from" and a.residents == 0:
        out.append(_w("empty_unit", "error", unit.code, f"{name}调整后将没有居民。",
                      f"{en} would have no residents left."))
    if unit.role == "new" and a.residents == 0:
        out.append(_w("empty_unit", "warning", unit.code, f"新设的{name}将没有居民。",
                      f"The new {en} would have no residents."))
    if "understaffed" in a.flags:
        severity: Severity = "warning" if "understaffed" in new else "info"
        still = "" if "understaffed" in new else "（调整前已超出）"
        still_en = "" if "understaffed" in new else " (already over before)"
        out.append(_w("overload", severity, unit.code,
                      f"{name}调整后每名社区工作者服务{a.residents_per_worker:,.0f}名居民，超过规范上限"
                      f"{norms.residents_per_worker:,.0f}名{still}：按每万人{norms.workers_per_10k:g}名需"
                      f"{a.workers_needed}名，现有{a.workers}名。",
                      f"{en} would have {a.residents_per_worker:,.0f} residents per community worker, over the norm's "
                      f"{norms.residents_per_worker:,.0f}{still_en}: {norms.workers_per_10k:g} per 10,000 residents "
                      f"needs {a.workers_needed}, it has {a.workers}."))
    if "no_workers" in a.flags:
        out.append(_w("no_workers", "warning", unit.code, f"{name}调整后有{a.residents:,}名居民但没有社区工作者。",
                      f"{en} would have {a.residents:,} residents and no community workers."))
    for flag, zh, en_word in (("grids_small", "低于", "below"), ("grids_large", "高于", "above")):
        if flag in a.flags and a.households_per_grid is not None:
            was = "" if flag in new else "（调整前已如此）"
            was_en = "" if flag in new else " (as before)"
            out.append(_w("grid_band", "info", unit.code,
                          f"{name}调整后平均每个网格{a.households_per_grid:,.0f}户，{zh}"
                          f"{norms.grid_households_min}–{norms.grid_households_max}户的网格规模区间{was}。",
                          f"{en} would average {a.households_per_grid:,.0f} households per grid, {en_word} the "
                          f"{norms.grid_households_min}–{norms.grid_households_max} band{was_en}."))
    return out


def impact_warnings(units: list[UnitImpact], access: Access, facts: Findings, norms: Norms) -> list[ImpactWarning]:
    """Every issue, the most serious first."""
    out: list[ImpactWarning] = []
    if facts.cancelled:
        out.append(_w("cancelled", "info", None, "本方案已撤销（从历史中抹去，如同从未发生），以下为其应用时的影响。",
                      "This proposal was cancelled (erased from the history as if it never happened); the report "
                      "shows what it did when applied."))
    elif facts.reverted_on:
        out.append(_w("reverted", "info", None, f"本方案已于{facts.reverted_on}恢复原状，以下为其当时的影响。",
                      f"This proposal was reversed on {facts.reverted_on}; the report shows what it did."))
    for line in facts.stale:
        out.append(_w("stale", "error", None, f"方案提出后相关单位已变更：{line}。应用时将被拒绝，请重新提出。",
                      f"The units changed since the proposal was made: {line}. Applying it will be refused."))
    if facts.outside_area_m2 >= 1.0:
        out.append(_w("outside_area", "info", None,
                      f"所绘区域中有{facts.outside_area_m2:,.0f}平方米位于{facts.from_name}之外，已忽略。",
                      f"{facts.outside_area_m2:,.0f} m² of the drawn area lie outside {facts.from_name_en} and are "
                      "ignored."))
    if not facts.territory_touches_to:
        out.append(_w("exclave", "error", None, f"调出区域与{facts.to_name}不相接，将成为其飞地。",
                      f"The moved area does not touch {facts.to_name_en}: it would be an exclave."))
    for unit in units:
        out += _unit_checks(unit, norms)
    for centre, owner, where in facts.centres_elsewhere:
        out.append(_w("centre_elsewhere", "warning", None,
                      f"{centre[0]}调整后位于{where[0]}辖区内，仍由{owner[0]}管理和使用。",
                      f"{centre[1]} would stand in {where[1]}'s territory; it stays with {owner[1]}."))
    for centre, old, new in facts.centres_merged:
        out.append(_w("centre_merged", "info", None,
                      f"{centre[0]}随{old[0]}并入{new[0]}，与{new[0]}原有的党群服务中心一并使用。",
                      f"{centre[1]} goes with {old[1]} to {new[1]}, beside {new[1]}'s own centre."))
    if access.after.residents_without_centre:
        n = access.after.residents_without_centre
        out.append(_w("no_centre", "warning", None, f"调整后有{n:,}名迁移居民所属社区没有党群服务中心。",
                      f"{n:,} moved residents would belong to a community without a party service centre."))
    for code, name, name_en in facts.new_communities:
        out.append(_w("new_community", "warning", code, f"将新设{name}（{code}），尚无社区工作者。",
                      f"New community {code} ({name_en}) would have no workers yet."))
    for code, name, name_en in facts.emptied_grids:
        out.append(_w("empty_grid", "warning", code, f"{name}（{code}）调整后没有居民。",
                      f"{name_en} ({code}) would have no residents."))
    rank = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda w: rank[w.severity])
