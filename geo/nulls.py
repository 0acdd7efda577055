"""Optional values read through pandas: a missing text is ``None``, never the float NaN.

pandas turns SQL NULL into NaN in object columns, and ``NaN or None`` is NaN (NaN is truthy), so an
optional ``name_en`` null in half the rows of a real register used to reach pydantic as a float.
"""

from __future__ import annotations

import math
from typing import Any


def optional_text(value: Any) -> str | None:
    """``value`` as text, or None when it is missing (None, NaN, pandas NA, empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    text = str(value)
    return text or None
