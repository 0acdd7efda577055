"""Settings of the HTTP service (environment prefix ``GRIDGOV_``), built once at the entry point."""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode

from geo.access import ROLES
from geo.config import Settings


class ApiSettings(Settings):
    """Database settings plus access control and request limits.

    ``api_keys`` maps a key to a role, e.g. ``GRIDGOV_API_KEYS='{"k3y…": "planner"}'``; keys can
    also be stored (hashed) in the ``api_keys`` table with ``gridgov key add``.
    """

    api_keys: dict[str, str] = {}
    read_requires_key: bool = False
    max_batch_points: int = 10_000
    # Limits (issue #12; README "Roles, limits and privacy"): bodies are capped per route before parsing.
    max_body_bytes: int = 2_000_000
    max_batch_body_bytes: int = 4_000_000
    max_upload_bytes: int = 200_000_000
    max_batch_answers: int = 100_000  # points × k of POST /stations/nearest
    max_expensive_concurrent: int = 2  # grid splits, balancing, staffing, PDF reports at once
    max_expensive_per_minute: int = 20  # per key, or per address without a key
    compute_budget_s: float = 60.0  # a grid-split plan or a PDF report is stopped after this
    tianditu_key: str | None = None
    # Event categories as JSON [{code, name, name_en, due_hours, weight}]; empty: the default catalogue.
    event_categories: str | None = None

    # Browser origins allowed to call the API (CORS), comma-separated or a JSON list; "*" for any. None by default.
    cors_origins: Annotated[list[str], NoDecode] = []

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [o.strip().rstrip("/") for o in text.split(",") if o.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for key, role in value.items():
            if role not in ROLES:
                raise ValueError(f"role {role!r} of an API key is not one of {ROLES}")
            if len(key) < 12:
                raise ValueError("API keys must be at least 12 characters long")
        return value
