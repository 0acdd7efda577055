"""The report's words in Chinese (the default) and English, and number formats."""

from __future__ import annotations

import math
from typing import Any

LANGS = ("zh", "en")

_ZH: dict[str, str] = {
    "doc_title": "边界调整影响评估报告",
    "title": "{a} → {b} 边界调整影响报告",
    "proposal": "方案", "status": "状态", "status_draft": "草稿（尚未生效）", "status_applied": "已应用",
    "status_reverted": "已恢复原状（恢复）", "status_cancelled": "已撤销（如同从未发生）",
    "basis_live_preview": "依据：按当前地图实时测算", "basis_recorded_change":
    "依据：该调整写入的版本及其之前的版本",
    "document_ref": "文件号", "effective_date": "生效日期", "author": "经办人", "reason": "调整原因",
    "generated_at": "生成时间", "level": "调整层级", "territory_kind": "调出范围",
    "territory_drawn": "在地图上绘制的区域", "territory_units": "整体调出的下级单位",
    "synthetic": "演示数据：西秀区轮廓为真实边界，辖区内的街道、社区、网格、楼栋、人口和站点均为合成数据。",
    "s_summary": "一、调整概要", "s_warnings": "二、需要关注的问题", "s_table": "三、调整前后对比",
    "s_access": "四、迁移居民的服务可达性", "s_maps": "五、调整前后地图", "s_boundary": "六、新边界描述（四至）",
    "s_households": "七、受影响楼栋名单",
    "moved_area": "调出面积", "km2": "平方公里", "buildings": "楼栋", "households": "户数", "residents": "居民",
    "elderly": "60岁以上老人", "children": "14岁以下儿童", "special_care": "特殊关爱对象",
    "unit_buildings": "栋", "unit_households": "户", "unit_people": "人", "unit_m": "米", "unit_grids": "个",
    "grids_moved_whole": "整体划出的网格", "grids_split": "被分割的单位", "stations_moved": "改变归属的站点",
    "none": "无", "split_row": "{name}（{code}）划出{area}平方米、{residents}人，新编码 {new_code}",
    "station_row": "{name}（{code}）：{before} → {after}",
    "no_warnings": "未发现问题。", "severity_error": "严重", "severity_warning": "注意", "severity_info": "提示",
    "indicator": "指标", "before": "调整前", "after": "调整后", "change": "变化", "median": "全区中位数",
    "median_of": "全区{n}个{kind}的中位数", "norm": "规范", "role_from": "调出", "role_to": "接收",
    "role_from_ancestor": "调出方上级", "role_to_ancestor": "接收方上级",
    "workers": "社区工作者", "residents_per_worker": "每名工作者服务居民", "workers_needed": "按规范应配工作者",
    "grids": "网格数", "households_per_grid": "平均每格户数", "grids_outside": "规模区间外网格",
    "empty_grids": "无居民网格", "area_km2": "面积（平方公里）", "compactness": "紧凑度", "contiguous": "连片",
    "yes": "是", "no": "否（{n}块）", "norm_rpw": "≤ {v}", "norm_band": "{lo}–{hi}",
    "flag_new": "新出现", "flag_resolved": "已消除", "flagged": "超出规范",
    "flag_understaffed": "工作者不足", "flag_no_workers": "无工作者", "flag_grids_small": "网格偏小",
    "flag_grids_large": "网格偏大", "flag_not_contiguous": "不连片", "flag_empty": "无居民",
    "crossings": "规范变化", "legend_flag": "红色数值超出规范；“新出现/已消除”指本次调整造成或消除的问题。",
    "kind_urban": "城市社区", "kind_village": "行政村", "kind_street": "街道", "kind_town": "镇", "kind_township": "乡",
    "kind_grid": "网格", "kind_any": "单位",
    "access_intro": "对{n}栋楼、{r}名迁移居民，测算其到所属社区党群服务中心的测地距离（WGS84椭球面，按居民人数加权）。",
    "centre_before": "调整前：{community}（{centre}）", "centre_after": "调整后：{community}（{centre}）",
    "no_centre": "无党群服务中心",
    "mean": "平均距离", "median_d": "中位数", "p90": "90%居民在此距离内", "max": "最远距离",
    "life_circle": "{min}分钟生活圈（{r}米）内", "life_circle_r": "{r}米范围内", "share_of_moved": "占迁移居民",
    "nearest_title": "最近的各类站点（不随边界变化，供参考）", "kind": "类型", "nearest_station": "主要最近站点",
    "nearest_mean": "平均距离", "nearest_max": "最远距离",
    "map_static": "静态地图（左：调整前；右：调整后）", "map_interactive": "交互地图（可在右上角切换图层）",
    "map_before": "调整前", "map_after": "调整后", "map_territory": "调出区域", "map_buildings": "迁移楼栋",
    "map_centres": "党群服务中心", "map_context": "周边单位", "map_grids": "网格界线",
    "map_scale": "比例尺", "north": "北",
    "shared_title": "{a}与{b}之间的界线", "four_sides": "四至", "side_east": "东", "side_south": "南",
    "side_west": "西", "side_north": "北", "length_m": "共界长度（米）",
    "households_intro": "以下{n}栋楼的居民将改属新社区/网格，请据此通知居民。"
                        "距离为至原、新所属社区党群服务中心的测地距离。",
    "households_cut": "此处列出前{n}栋，完整名单见 CSV 文件（/households.csv）。",
    "col_no": "序号", "col_code": "楼栋编码", "col_address": "地址", "col_households": "户数", "col_residents": "居民",
    "col_community_before": "原社区", "col_community_after": "新社区", "col_grid_before": "原网格",
    "col_grid_after": "新网格", "col_distance_after": "至新党群服务中心（米）", "col_distance_before":
    "至原党群服务中心（米）", "col_elderly": "60岁以上", "col_children": "14岁以下", "col_special_care": "特殊关爱",
    "col_building": "楼栋（编码 地址）", "col_people": "户数 / 居民", "col_before": "原社区 · 网格",
    "col_after": "新社区 · 网格", "col_distance": "至党群服务中心（米）原 → 新",
    "col_community_before_code": "原社区编码", "col_community_after_code": "新社区编码",
    "col_grid_before_code": "原网格编码", "col_grid_after_code": "新网格编码", "col_lon": "经度", "col_lat": "纬度",
    "method": "说明：面积和距离均为 WGS84 椭球面测地量；紧凑度为 4πA/P²（圆为1）；规范：社区工作者每万名居民{w}名，"
              "网格规模{lo}–{hi}户，生活圈半径{rings}米（GB 50180-2018）。",
    "page": "第 {p} 页", "generator": "gridgov 网格化治理空间底座",
    "unit_rows": "涉及单位",
    "title_split": "{a} 拆分影响报告", "title_merge": "{a} 并入 {b} 影响报告",
    "change_kind": "调整类型", "change_kind_move": "边界划转", "change_kind_split": "网格拆分",
    "change_kind_merge": "合并撤并",
    "role_new": "新设", "role_retired": "撤并", "role_from_split": "被拆分，保留原编码", "role_to_merge": "保留并接收",
    "moved_area_split": "新设网格面积", "moved_area_merge": "并入面积",
    "territory_split": "在地图上绘制的新网格范围", "territory_merge": "整体并入的单位",
    "units_created": "新设单位", "units_retired": "撤并单位",
    "map_territory_split": "新设网格范围", "map_territory_merge": "并入范围",
    "attachment": "附件", "watermark_draft": "草稿 未生效", "internal_map": "内部用图 注意保存",
    "signoff_title": "审签", "signoff_handled": "经办", "signoff_checked": "审核", "signoff_issued": "签发",
    "signoff_date": "成文日期", "signoff_date_blank": "　　年　　月　　日",
    "no_residents_moved": "本次调整不涉及居民归属变化，无需比较居民到服务中心的距离。",
    "beijing_time": "北京时间",
}

_EN: dict[str, str] = {
    "doc_title": "Boundary change impact report",
    "title": "{a} → {b}: impact of the boundary change",
    "proposal": "Proposal", "status": "Status", "status_draft": "Draft (not in force)", "status_applied": "Applied",
    "status_reverted": "Reversed", "status_cancelled": "Cancelled (as if it never happened)",
    "basis_live_preview": "Basis: computed live against the current map",
    "basis_recorded_change": "Basis: the versions the change wrote and the ones they replaced",
    "document_ref": "Document", "effective_date": "Effective", "author": "Author", "reason": "Reason",
    "generated_at": "Generated", "level": "Level", "territory_kind": "Territory",
    "territory_drawn": "an area drawn on the map", "territory_units": "whole units one level down",
    "synthetic": "Demo data: the Xixiu District outline is real; every sub-district, community, grid, building, "
                 "population and station inside it is synthetic.",
    "s_summary": "1. Summary", "s_warnings": "2. Issues to note", "s_table": "3. Before and after",
    "s_access": "4. Access to services for the residents who move", "s_maps": "5. Maps",
    "s_boundary": "6. The new boundary in words", "s_households": "7. Affected buildings",
    "moved_area": "Area moved", "km2": "km²", "buildings": "Buildings", "households": "Households",
    "residents": "Residents", "elderly": "Aged 60+", "children": "Under 14", "special_care": "Special care",
    "unit_buildings": "", "unit_households": "", "unit_people": "", "unit_m": "m", "unit_grids": "",
    "grids_moved_whole": "Grids moved whole", "grids_split": "Units split", "stations_moved": "Stations changing hands",
    "none": "none", "split_row": "{name} ({code}): {area} m² and {residents} residents move, new code {new_code}",
    "station_row": "{name} ({code}): {before} → {after}",
    "no_warnings": "No issues found.", "severity_error": "Serious", "severity_warning": "Note",
    "severity_info": "Info",
    "indicator": "Indicator", "before": "Before", "after": "After", "change": "Change", "median": "District median",
    "median_of": "Median of the district's {n} {kind}", "norm": "Norm", "role_from": "gives",
    "role_to": "receives", "role_from_ancestor": "parent of the giver", "role_to_ancestor": "parent of the receiver",
    "workers": "Community workers", "residents_per_worker": "Residents per worker", "workers_needed":
    "Workers the norm asks for", "grids": "Grids", "households_per_grid": "Households per grid",
    "grids_outside": "Grids outside the band", "empty_grids": "Grids without residents", "area_km2": "Area (km²)",
    "compactness": "Compactness", "contiguous": "Contiguous", "yes": "yes", "no": "no ({n} parts)",
    "norm_rpw": "≤ {v}", "norm_band": "{lo}–{hi}",
    "flag_new": "new", "flag_resolved": "resolved", "flagged": "outside the norm",
    "flag_understaffed": "understaffed", "flag_no_workers": "no workers", "flag_grids_small": "grids too small",
    "flag_grids_large": "grids too large", "flag_not_contiguous": "not contiguous", "flag_empty": "no residents",
    "crossings": "Norms crossed", "legend_flag": "Red values are outside the norm; \"new\"/\"resolved\" mark "
                                                "issues this change creates or removes.",
    "kind_urban": "urban communities", "kind_village": "villages", "kind_street": "sub-districts",
    "kind_town": "towns", "kind_township": "townships", "kind_grid": "grids", "kind_any": "units",
    "access_intro": "For the {n} buildings and {r} residents who move: geodesic distance (WGS84 ellipsoid) to "
                    "their community's party service centre, weighted by residents.",
    "centre_before": "Before: {community} ({centre})", "centre_after": "After: {community} ({centre})",
    "no_centre": "no party service centre",
    "mean": "Mean distance", "median_d": "Median", "p90": "90% of residents within", "max": "Farthest",
    "life_circle": "Within the {min}-minute life circle ({r} m)", "life_circle_r": "Within {r} m",
    "share_of_moved": "of moved residents",
    "nearest_title": "Nearest station of each kind (unchanged by the boundary; for context)", "kind": "Kind",
    "nearest_station": "Nearest for most residents", "nearest_mean": "Mean distance", "nearest_max": "Farthest",
    "map_static": "Static map (left: before; right: after)",
    "map_interactive": "Interactive map (toggle layers at the top right)",
    "map_before": "Before", "map_after": "After", "map_territory": "Territory moved",
    "map_buildings": "Moved buildings", "map_centres": "Party service centres", "map_context": "Neighbouring units",
    "map_grids": "Grid boundaries", "map_scale": "Scale", "north": "N",
    "shared_title": "The boundary between {a} and {b}", "four_sides": "Neighbours by side", "side_east": "East",
    "side_south": "South", "side_west": "West", "side_north": "North", "length_m": "Shared length (m)",
    "households_intro": "The residents of these {n} buildings change community or grid; use this list to notify "
                        "them. Distances: geodesic, to the party service centre of the old and the new community.",
    "households_cut": "The first {n} buildings are listed; the CSV (/households.csv) has them all.",
    "col_no": "No.", "col_code": "Building", "col_address": "Address", "col_households": "Households",
    "col_residents": "Residents", "col_community_before": "Community before", "col_community_after": "Community after",
    "col_grid_before": "Grid before", "col_grid_after": "Grid after",
    "col_distance_after": "To new centre (m)", "col_distance_before": "To old centre (m)",
    "col_elderly": "Aged 60+", "col_children": "Under 14", "col_special_care": "Special care",
    "col_building": "Building (code, address)", "col_people": "Households / residents",
    "col_before": "Community · grid before", "col_after": "Community · grid after",
    "col_distance": "To the party service centre (m), old → new",
    "col_community_before_code": "Community code before", "col_community_after_code": "Community code after",
    "col_grid_before_code": "Grid code before", "col_grid_after_code": "Grid code after", "col_lon": "Longitude",
    "col_lat": "Latitude",
    "method": "Notes: areas and distances are geodesic on the WGS84 ellipsoid; compactness is 4πA/P² (1 for a "
              "circle); norms: {w} community workers per 10,000 residents, grids of {lo}–{hi} households, "
              "life circles of {rings} m (GB 50180-2018).",
    "page": "Page {p}", "generator": "gridgov, the spatial base for grid governance",
    "unit_rows": "Units involved",
    "title_split": "Splitting {a}: impact of the change", "title_merge": "{a} into {b}: impact of the merge",
    "change_kind": "Kind of change", "change_kind_move": "move of territory", "change_kind_split": "split of a grid",
    "change_kind_merge": "merge",
    "role_new": "new", "role_retired": "retired", "role_from_split": "split, keeps its code",
    "role_to_merge": "stays, receives",
    "moved_area_split": "Area of the new grids", "moved_area_merge": "Area merged",
    "territory_split": "new grids drawn on the map", "territory_merge": "whole units merged",
    "units_created": "New units", "units_retired": "Units retired",
    "map_territory_split": "New grids' area", "map_territory_merge": "Area merged",
    "attachment": "Attachment", "watermark_draft": "DRAFT – NOT IN EFFECT", "internal_map": "Map for internal use",
    "signoff_title": "Sign-off", "signoff_handled": "Prepared by", "signoff_checked": "Checked by",
    "signoff_issued": "Issued by", "signoff_date": "Date", "signoff_date_blank": "",
    "no_residents_moved": "No resident changes community: there are no distances to compare.",
    "beijing_time": "Beijing time (UTC+8)",
}

LABELS: dict[str, dict[str, str]] = {"zh": _ZH, "en": _EN}


def t(lang: str, key: str, **values: Any) -> str:
    """The label ``key`` in ``lang``, with ``{placeholders}`` filled."""
    text = LABELS[lang][key]
    return text.format(**values) if values else text


def for_kind(lang: str, key: str, kind: str, **values: Any) -> str:
    """The label ``key`` as a change of ``kind`` words it (``key_split``), else the plain ``key``."""
    return t(lang, f"{key}_{kind}" if f"{key}_{kind}" in LABELS[lang] else key, **values)


def role(lang: str, role_key: str, kind: str) -> str:
    """A unit's role in the change, in words (a split's grid and a merge's unit that stays have their own)."""
    return for_kind(lang, f"role_{role_key}", kind)


def name(ref: Any, lang: str) -> str:
    """A unit's (or station's) name in ``lang``: the English name when there is one."""
    get = ref.get if hasattr(ref, "get") else lambda k: getattr(ref, k, None)
    return str((get("name_en") if lang == "en" else None) or get("name"))


def integer(value: float | None) -> str:
    """1234567 -> 1,234,567; None -> –."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{round(value):,}"


def decimal(value: float | None, places: int = 1) -> str:
    """A number with ``places`` decimals and thousands separators."""
    return "–" if value is None else f"{value:,.{places}f}"


def percent(value: float | None) -> str:
    """0.4616 -> 46.2%."""
    return "–" if value is None else f"{100 * value:.1f}%"


def signed(value: float | None, places: int = 0) -> str:
    """A difference with its sign: +12, −3 (true minus sign)."""
    if value is None:
        return "–"
    if round(value, places) == 0:
        return "0" if places == 0 else f"{0:.{places}f}"
    text = f"{abs(value):,.{places}f}"
    return ("+" if value > 0 else "−") + text
