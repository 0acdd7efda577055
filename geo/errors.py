"""Domain errors. Each carries a stable ``code`` and, where it applies, the offending ``field``.

The HTTP layer maps these classes to status codes in one table (``api/errors.py``); the CLI prints
their message and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class GridgovError(Exception):
    """Base of every error the domain core raises on purpose."""

    code = "gridgov_error"

    def __init__(self, message: str, *, field: str | None = None, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        #: The same message in Chinese; when ``None`` the HTTP layer words one from ``code`` and ``field``.
        self.zh = zh


class InvalidInput(GridgovError):
    """The caller gave a value that cannot be used."""

    code = "invalid_input"


class NotFound(GridgovError):
    """A unit, station, proposal or collection that does not exist."""

    code = "not_found"


class Forbidden(GridgovError):
    """The caller's key may not do this (e.g. apply another planner's proposal without the approver role)."""

    code = "forbidden"


class Conflict(GridgovError):
    """The request is valid but clashes with the current state (e.g. stale versions)."""

    code = "conflict"


class TooLarge(InvalidInput):
    """A request body, upload or archive larger than the limit set for it (HTTP 413)."""

    code = "payload_too_large"


class BudgetExceeded(InvalidInput):
    """A computation the request started needs more work or time than it may use; nothing was written."""

    code = "budget_exceeded"


class TooManyRequests(GridgovError):
    """Too many expensive requests at once or per minute; ``retry_after`` seconds is a fair wait."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 1, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = retry_after


class DatabaseUnavailable(GridgovError):
    """The database cannot be reached or lacks its spatial extension."""

    code = "database_unavailable"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with input data: which layer and feature, which field, and why."""

    layer: str
    feature: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.layer}[{self.feature}].{self.field}: {self.reason}"


class ImportRejected(InvalidInput):
    """A dataset failed validation; nothing was written. ``problems`` lists every finding."""

    code = "import_rejected"

    def __init__(self, problems: list[Problem]) -> None:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} problem(s) in the dataset: {shown}{more}",
                         zh=f"数据集中有 {len(problems)} 个问题，未写入任何内容：{shown}{more}")
        self.problems = problems


class InvariantViolation(InvalidInput):
    """A change would break an invariant (coverage, nesting, conservation); nothing was written."""

    code = "invariant_violation"

    def __init__(self, reasons: list[str]) -> None:
        shown = "; ".join(reasons[:10])
        super().__init__("the change would break the map's invariants: " + shown,
                         zh="该变更会破坏地图的不变量（覆盖、嵌套、守恒），未写入任何内容：" + shown)
        self.reasons = reasons
