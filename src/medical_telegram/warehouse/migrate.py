"""Apply the SQL migrations in migrations/ once each, in order, under an advisory lock."""

from __future__ import annotations

import logging
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every process migrating this warehouse.
_LOCK_KEY = 7_431_019


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("medical_telegram.warehouse") / "migrations"
    return sorted((f.name, f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql"))


def migrate(conn: psycopg.Connection) -> list[str]:
    """Bring the raw schema up to date; returns the versions applied now (none when up to date)."""
    applied_now = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("create schema if not exists raw")
        conn.execute(
            "create table if not exists raw.schema_migrations"
            " (version text primary key, applied_at timestamptz not null default now())"
        )
        done = {row[0] for row in conn.execute("select version from raw.schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("insert into raw.schema_migrations (version) values (%s)", (version,))
            applied_now.append(version)
    if applied_now:
        log.info("applied migrations: %s", ", ".join(applied_now))
    return applied_now
