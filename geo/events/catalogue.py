"""The configurable category catalogue, the lifecycle's statuses and the kinds of reporter.

A category has a due time (hours from the report to 办结) and a workload weight (how many "plain
events" one of its events counts for). The default is what a 街道 网格化服务管理中心 starts with;
``GRIDGOV_EVENT_CATEGORIES`` (JSON) replaces it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import InvalidInput


@dataclass(frozen=True)
class Category:
    """One kind of event: a stable code, names, hours until it is due, and its workload weight."""

    code: str
    name: str
    name_en: str
    due_hours: float
    weight: float = 1.0


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("environment", "环境卫生", "Environment and sanitation", 48, 1.0),
    Category("safety", "安全隐患", "Safety hazard", 24, 1.5),
    Category("dispute", "矛盾纠纷", "Dispute", 72, 2.0),
    Category("livelihood", "民生诉求", "Livelihood request", 120, 1.5),
    Category("petition", "信访", "Petition (信访)", 24 * 15, 3.0),  # 《信访工作条例》: 15 days to accept
)

# The lifecycle, in order: 上报 → 分拨 → 处置 → 反馈 → 办结.
STATUSES: tuple[str, ...] = ("reported", "assigned", "handling", "feedback", "closed")
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "reported": ("上报", "reported"),
    "assigned": ("分拨", "assigned"),
    "handling": ("处置", "being handled"),
    "feedback": ("反馈", "reporter informed"),
    "closed": ("办结", "closed"),
}
# Forward one step at a time; a resident who is not satisfied sends a 反馈 back to 处置 (返工).
ALLOWED: dict[str, tuple[str, ...]] = {
    "reported": ("assigned",),
    "assigned": ("handling",),
    "handling": ("feedback",),
    "feedback": ("closed", "handling"),
    "closed": (),
}
OPEN_STATUSES: tuple[str, ...] = STATUSES[:-1]

SOURCES: dict[str, tuple[str, str]] = {
    "resident": ("居民", "resident"),
    "volunteer": ("新就业群体志愿者", "new-employment volunteer"),
    "grid_worker": ("网格员", "grid worker"),
    "hotline": ("热线", "hotline"),
}


class Catalogue:
    """Categories by code (or by Chinese name, as hotline files carry them)."""

    def __init__(self, categories: Iterable[Category] = DEFAULT_CATEGORIES) -> None:
        self.categories: dict[str, Category] = {}
        for cat in categories:
            if cat.code in self.categories:
                raise InvalidInput(f"category {cat.code!r} is listed twice", field="categories")
            self.categories[cat.code] = cat
        if not self.categories:
            raise InvalidInput("the category catalogue is empty", field="categories")
        self._by_name = {c.name: c for c in self.categories.values()}

    def get(self, code_or_name: str, *, field: str = "category") -> Category:
        """The category named by its code or its Chinese name; a field-named error otherwise."""
        key = str(code_or_name).strip()
        found = self.categories.get(key) or self._by_name.get(key)
        if found is None:
            known = ", ".join(f"{c.code} ({c.name})" for c in self.categories.values())
            raise InvalidInput(f"unknown category {key!r}; use one of {known} / 未知事件类别", field=field)
        return found

    def weights(self) -> dict[str, float]:
        """Workload weight per category code."""
        return {c.code: c.weight for c in self.categories.values()}

    def as_list(self) -> list[dict[str, Any]]:
        """The catalogue as plain records (for the API and the map's legend)."""
        return [c.__dict__.copy() for c in self.categories.values()]

    def with_weights(self, weights: Mapping[str, float]) -> Catalogue:
        """The same catalogue with some weights replaced (e.g. from a /load query)."""
        out = []
        for cat in self.categories.values():
            w = weights.get(cat.code, cat.weight)
            _check_number(w, f"weights.{cat.code}", upper=100)
            out.append(Category(cat.code, cat.name, cat.name_en, cat.due_hours, float(w)))
        unknown = set(weights) - set(self.categories)
        if unknown:
            raise InvalidInput(f"unknown category {sorted(unknown)[0]!r} in weights", field="weights")
        return Catalogue(out)


def _check_number(value: Any, field: str, *, upper: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) \
            or not 0 <= value <= upper:
        raise InvalidInput(f"{field} must be a number between 0 and {upper}, not {value!r}", field=field)


def parse_catalogue(raw: str | list[dict[str, Any]] | None) -> Catalogue:
    """A catalogue from JSON (a list of {code, name, name_en, due_hours, weight}); the default when empty."""
    if raw is None or raw == "" or raw == []:
        return Catalogue()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"event categories are not valid JSON: {exc}", field="event_categories") from exc
    if not isinstance(items, list):
        raise InvalidInput("event categories must be a JSON list", field="event_categories")
    cats = []
    for i, item in enumerate(items):
        field = f"event_categories[{i}]"
        if not isinstance(item, dict) or not str(item.get("code", "")).strip() or not item.get("name"):
            raise InvalidInput("each category needs a code and a name", field=field)
        due = item.get("due_hours", 72)
        _check_number(due, f"{field}.due_hours", upper=24 * 365)
        if due == 0:
            raise InvalidInput("due_hours must be positive", field=f"{field}.due_hours")
        weight = item.get("weight", 1.0)
        _check_number(weight, f"{field}.weight", upper=100)
        cats.append(Category(str(item["code"]).strip(), str(item["name"]), str(item.get("name_en") or item["code"]),
                             float(due), float(weight)))
    return Catalogue(cats)
