"""Weekly housekeeping: lake retention, VACUUM / ANALYZE, old logs and monitoring rows.

Lake retention removes a message file only when it is older than the retention period AND its current
content (checksum) is recorded as loaded in raw.load_log: the warehouse holds every row of it, so nothing is
lost. Files never loaded, loaded in another version, or quarantined stay. Images and the quarantine are
never touched here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from medical_telegram import lake

log = logging.getLogger(__name__)

VACUUM_TABLES = ("raw.telegram_messages", "raw.image_detections", "raw.load_log",
                 "monitoring.health_checks", "monitoring.api_metrics")


@dataclasses.dataclass
class RetentionResult:
    removed: list[str] = dataclasses.field(default_factory=list)
    kept_not_loaded: list[str] = dataclasses.field(default_factory=list)
    bytes_freed: int = 0

    def as_dict(self) -> dict:
        return {"removed": len(self.removed), "kept_not_loaded": len(self.kept_not_loaded),
                "bytes_freed": self.bytes_freed, "removed_files": self.removed[:50]}


def _day_of(path: Path) -> date | None:
    try:
        return date.fromisoformat(path.parent.name)
    except ValueError:
        return None


def make_loads_durable(conn: psycopg.Connection, timeout_s: float = 30) -> None:
    """The loader commits with synchronous_commit off (a crash loses whole batches only, which it loads again
    from the lake). Before a lake file is deleted on the strength of its load_log row, that row must be on
    disk: wait until the server has flushed its WAL past every commit made so far."""
    written = conn.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout_s
    while not conn.execute("select pg_current_wal_flush_lsn() >= %s::pg_lsn", (written,)).fetchone()[0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the warehouse has not flushed its WAL to {written} in {timeout_s:g} s: no lake"
                               " file is deleted until the loads it would rely on are on disk")
        time.sleep(0.05)
    conn.commit()


def lake_retention(conn: psycopg.Connection, root: Path, keep_days: int, *, today: date | None = None,
                   dry_run: bool = False) -> RetentionResult:
    """Remove message files of days older than keep_days whose exact content is loaded."""
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=keep_days)
    make_loads_durable(conn)
    loaded = {
        (path, checksum)
        for path, checksum in conn.execute(
            "select file_path, checksum from raw.load_log where target = 'telegram_messages' and status = 'loaded'"
        )
    }
    result = RetentionResult()
    for path in sorted((root / lake.MESSAGES_DIR).glob("*/*.json")):
        day = _day_of(path)
        if day is None or day >= cutoff:
            continue
        relpath = path.relative_to(root).as_posix()
        # Under the channel's lock: an ingestion merging new messages into this file at the same moment would
        # otherwise have them removed with the old content.
        with lake.channel_lock(root, path.stem):
            data = path.read_bytes()
            if (relpath, hashlib.sha256(data).hexdigest()) not in loaded:
                result.kept_not_loaded.append(relpath)
                continue
            if not dry_run:
                path.unlink()
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()
        result.removed.append(relpath)
        result.bytes_freed += len(data)
    log.info("lake retention (%d days): %d files removed, %d older files kept because not loaded",
             keep_days, len(result.removed), len(result.kept_not_loaded))
    return result


def vacuum_analyze(dsn: str, tables: tuple[str, ...] = VACUUM_TABLES) -> list[str]:
    """VACUUM (ANALYZE) each table that exists (VACUUM cannot run inside a transaction: autocommit)."""
    done = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in tables:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
                continue
            conn.execute(f"vacuum (analyze) {table}")
            done.append(table)
    log.info("vacuum (analyze): %s", ", ".join(done))
    return done


def trim_monitoring(conn: psycopg.Connection, keep_days: int) -> dict[str, int]:
    counts = {}
    for table, column in (("monitoring.health_checks", "checked_at"), ("monitoring.api_metrics", "measured_at"),
                          ("monitoring.quality_results", "checked_at"), ("monitoring.alerts", "sent_at")):
        cur = conn.execute(f"delete from {table} where {column} < now() - make_interval(days => %s)", (keep_days,))
        counts[table] = cur.rowcount
    conn.commit()
    return counts


def trim_logs(log_dir: Path, keep_days: int) -> int:
    """Delete log files older than keep_days under log_dir (Airflow's task logs), then empty folders."""
    if not log_dir.is_dir():
        return 0
    cutoff = time.time() - keep_days * 86400
    removed = 0
    for path in log_dir.rglob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink()
            removed += 1
    for folder in sorted((p for p in log_dir.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return removed
