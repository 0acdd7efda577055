"""Settings shared by the CLI and the API, read from the environment (prefix ``GRIDGOV_``).

Build a :class:`Settings` once at an entry point and pass it down; nothing reads the
environment at import time.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/gridgov.sqlite"


class Settings(BaseSettings):
    """Where the data lives, and how the service behaves."""

    model_config = SettingsConfigDict(env_prefix="GRIDGOV_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
