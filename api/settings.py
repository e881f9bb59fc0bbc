"""The API's settings, read once from the environment (prefix API_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore")

    # A read-only role's DSN in production; without it the warehouse is found the project's usual way.
    database_url: str | None = None
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=8, ge=1)
    # How long a request waits for a pooled connection before the API answers 503 (with Retry-After), and how
    # many may wait at once: past that a request is answered 503 at once instead of piling up.
    pool_timeout_s: float = Field(default=3.0, gt=0)
    pool_max_waiting: int = Field(default=16, ge=0)
    retry_after_s: int = Field(default=2, ge=1)
    connect_timeout_s: int = Field(default=3, ge=1)
    # A runaway query must not hold a connection for long: the server cancels it.
    statement_timeout_ms: int = Field(default=5000, ge=100)
    # Search ranks at most this many matches, the newest (see api/queries/search.py).
    search_candidates: int = Field(default=200, ge=20)

    def dsn(self) -> str:
        if self.database_url:
            return self.database_url
        from medical_telegram.warehouse import warehouse_dsn

        return warehouse_dsn()


@lru_cache
def get_settings() -> Settings:
    return Settings()
