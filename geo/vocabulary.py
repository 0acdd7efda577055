"""One name per quantity (Chinese and English) and one set of thresholds, for every place that speaks of load.

The map's colours and legend (:mod:`maps.styles`, ``maps/static/balance.js``), the balancer's flags
(:mod:`geo.balance.load`), the load table and the reports all read from here, so the same community is
never "超出规范" in one place and "达标" in another.

The quantity is the **load ratio**: workload per community worker against the norm (18 workers per
10,000 residents, 国办发〔2021〕56号, i.e. about 556 residents per worker). 1.0 is on target. The band is
``1 ± TOLERANCE``; beyond ``FAR_OVER`` a community is far over. With the default weights the ratio is
residents per worker divided by 556, so the thresholds read the same in residents per worker.
"""

from __future__ import annotations

from dataclasses import dataclass

NORM_WORKERS_PER_10K = 18.0  # 国办发〔2021〕56号: more than 18 community workers per 10,000 residents
TOLERANCE = 0.2  # the band: ratio within 1 ± 0.2
FAR_OVER = 1.5  # ratio from which a community is "far over"
RESIDENTS_PER_WORKER_NORM = 10_000 / NORM_WORKERS_PER_10K

# Residents' groups (居民小组): households per group. No national norm fixes it; the 《城市居民委员会组织法》
# (art. 13) only says groups are formed "by residential area"; local rules (e.g. several provinces' 居民小组
# 工作规范) use 15–50 households, with larger groups in dense estates. Default 30–80, configurable.
GROUP_MIN_HOUSEHOLDS = 30
GROUP_MAX_HOUSEHOLDS = 80

QUANTITIES: dict[str, tuple[str, str]] = {
    "residents_per_worker": ("每名社区工作者服务居民数", "residents per community worker"),
    "ratio": ("负荷比（工作量 ÷ 按标准可承担的工作量）",
              "load ratio (workload ÷ what the workers can carry at the norm)"),
    "workers": ("社区工作者数", "community workers"),
    "workers_needed": ("按标准应配社区工作者数", "community workers needed at the norm"),
    "shortfall": ("社区工作者缺口", "shortfall of community workers"),
    "new_workers": ("新增社区工作者", "new community workers"),
    "workers_moved": ("随网格调整的社区工作者", "community workers moving with the grids"),
    "households_per_grid": ("每个网格户数", "households per grid"),
    "households_per_village": ("每个村户数", "households per village"),
    "group_households": ("每个居民小组户数", "households per residents' group"),
    "band": ("容差范围", "band"),
}

FLAGS: dict[str, tuple[str, str]] = {
    "over": ("高于容差范围（负荷过重）", "above the band (overloaded)"),
    "under": ("低于容差范围（负荷偏轻）", "below the band (underloaded)"),
    "ok": ("在容差范围内", "within the band"),
}


@dataclass(frozen=True)
class RatioClass:
    """A class of the load ratio with its colour (ColorBrewer RdYlGn reversed, 5 classes; colour-blind safe)."""

    key: str
    upper: float  # exclusive upper bound of the ratio
    color: str
    zh: str
    en: str


def ratio_classes(tolerance: float = TOLERANCE) -> tuple[RatioClass, ...]:
    """The five classes of the map; the band ``1 ± tolerance`` is exactly the two middle ones."""
    return (
        RatioClass("load_light", 1 - tolerance, "#1a9850", "低于容差范围", "below the band"),
        RatioClass("load_normal", 1.0, "#91cf60", "在容差范围内（低于标准）", "within the band, under the norm"),
        RatioClass("load_near", 1 + tolerance, "#fee08b", "在容差范围内（高于标准）", "within the band, over the norm"),
        RatioClass("load_over", FAR_OVER, "#fc8d59", "高于容差范围", "above the band"),
        RatioClass("load_far_over", float("inf"), "#d73027", f"严重超负荷（≥ {FAR_OVER:.0%}）",
                   f"far above the band (≥ {FAR_OVER:.0%})"),
    )


def flag_of_ratio(ratio: float, tolerance: float = TOLERANCE) -> str:
    """over, under or ok: the one rule (the band includes its ends)."""
    if ratio > 1.0 + tolerance:
        return "over"
    if ratio < 1.0 - tolerance:
        return "under"
    return "ok"


SENTENCES: dict[str, tuple[str, str]] = {
    "shortfall": ("{name}按每万名居民{norm}名社区工作者的标准需要{needed}名社区工作者，现有{present}名，缺{short}名；"
                  "调整内部边界无法弥补这一缺口，需要新增社区工作者。",
                  "{name}: {needed} community workers are needed at the norm ({norm} per 10,000 residents) and "
                  "{present} are present, a shortfall of {short} that no boundary change inside it can fix; it "
                  "needs new workers."),
    "staffed": ("{name}按每万名居民{norm}名社区工作者的标准需要{needed}名社区工作者，现有{present}名，总量足够；"
                "负荷不均可以通过调整边界或人员解决。",
                "{name}: {needed} community workers are needed at the norm ({norm} per 10,000 residents) and "
                "{present} are present, enough in total; uneven load can be fixed by moving boundaries or workers."),
    "combined_plan": ("调整{moves}处网格（{residents}名居民，随调{carried}名社区工作者），并新增{new}名社区工作者。",
                      "Move grids in {moves} place(s) ({residents} residents, {carried} community workers "
                      "moving with them) and place {new} new community workers."),
}


def name(quantity: str, lang: str) -> str:
    """The one name of ``quantity`` in ``lang`` (``zh``/``zh-CN`` or ``en``)."""
    zh, en = QUANTITIES[quantity]
    return en if lang.startswith("en") else zh


def flag_label(flag: str, lang: str) -> str:
    """The one label of a flag (over, under, ok)."""
    zh, en = FLAGS[flag]
    return en if lang.startswith("en") else zh


def sentence(key: str, lang: str, **values: object) -> str:
    """A sentence of :data:`SENTENCES` with its figures filled in."""
    zh, en = SENTENCES[key]
    return (en if lang.startswith("en") else zh).format(**values)


def map_strings(lang: str) -> dict[str, str]:
    """The load-related strings of the planner page, from the names above (merged into ``maps.i18n``)."""
    en = lang.startswith("en")
    out = {c.key: (c.en if en else c.zh) for c in ratio_classes()}
    out.update({f"flag_{k}": (v[1] if en else v[0]) for k, v in FLAGS.items()})
    out.update({f"load_flag_{k}": (v[1] if en else v[0]) for k, v in FLAGS.items()})
    out["load_short"] = name("residents_per_worker", lang)
    out["load_unit"] = name("residents_per_worker", lang)
    out["ratio"] = name("ratio", lang)
    out["load_within_norm"] = "at or under the norm" if en else "不高于标准"
    out["load_over_norm"] = "{pct}% over the norm" if en else "比标准高 {pct}%"
    out["legend_load_title"] = (f"{name('ratio', lang)}; band {1 - TOLERANCE:.0%}–{1 + TOLERANCE:.0%} "
                                "(norm ≤ {norm} residents per worker)" if en else
                                f"{name('ratio', lang)}，容差范围 {1 - TOLERANCE:.0%}–{1 + TOLERANCE:.0%}"
                                "（标准：每名社区工作者服务居民数 ≤ {norm}）")
    for key, (zh, eng) in QUANTITIES.items():
        out[f"q_{key}"] = eng if en else zh
    return out
