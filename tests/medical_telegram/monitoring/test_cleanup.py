"""The weekly cleanup (lake retention, trimming the monitoring schema and the logs, VACUUM ANALYZE), on real
PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from medical_telegram.monitoring import cleanup
from medical_telegram.warehouse.loaders.messages import load_messages

REPO = Path(__file__).resolve().parents[3]
SAMPLE_LAKE = REPO / "sample" / "lake"


@pytest.fixture
def loaded_lake(db, lake_root) -> Path:
    shutil.copytree(SAMPLE_LAKE / "raw" / "telegram_messages", lake_root / "raw" / "telegram_messages")
    load_messages(db, lake_root)
    return lake_root


def test_retention_removes_only_old_files_whose_content_is_loaded(db, loaded_lake):
    files = sorted((loaded_lake / "raw" / "telegram_messages").glob("*/*.json"))
    changed = files[0]
    changed.write_bytes(changed.read_bytes().replace(b'"message_text": "', b'"message_text": "edited ', 1))
    never_loaded = loaded_lake / "raw" / "telegram_messages" / "2025-01-01" / "lobelia4cosmetics.json"
    never_loaded.parent.mkdir()
    never_loaded.write_text("[]")
    result = cleanup.lake_retention(db, loaded_lake, keep_days=30, today=date(2026, 11, 27))
    assert sorted(result.kept_not_loaded) == sorted(p.relative_to(loaded_lake).as_posix()
                                                    for p in (changed, never_loaded))
    assert len(result.removed) == len(files) - 1 and result.bytes_freed > 0
    assert changed.exists() and never_loaded.exists()
    assert not any(p.exists() for p in files[1:])


def test_recent_files_are_kept(db, loaded_lake):
    result = cleanup.lake_retention(db, loaded_lake, keep_days=10_000, today=date(2026, 11, 27))
    assert result.removed == []


def test_vacuum_and_trim(db, warehouse_dsn, tmp_path):
    db.execute("insert into monitoring.health_checks (check_name, status, checked_at)"
               " values ('disk', 'ok', now() - interval '40 days'), ('disk', 'ok', now())")
    db.commit()
    assert cleanup.trim_monitoring(db, keep_days=30)["monitoring.health_checks"] == 1
    assert "raw.telegram_messages" in cleanup.vacuum_analyze(warehouse_dsn)
    old = tmp_path / "logs" / "dag_id=x" / "old.log"
    old.parent.mkdir(parents=True)
    old.write_text("x")
    import os

    os.utime(old, (0, 0))
    (tmp_path / "logs" / "new.log").write_text("y")
    assert cleanup.trim_logs(tmp_path / "logs", keep_days=30) == 1
    assert not old.parent.exists() and (tmp_path / "logs" / "new.log").exists()


def test_retention_first_makes_the_loads_it_trusts_durable(db):
    """A load commits with synchronous_commit off; a file is deleted only once its load_log row is on disk."""
    from medical_telegram.monitoring.cleanup import make_loads_durable

    db.execute("set synchronous_commit = off")
    db.execute("insert into raw.load_log (target, file_path, checksum, status, started_at)"
               " values ('telegram_messages', 'x.json', 'c', 'loaded', now())")
    db.commit()
    committed = db.execute("select pg_current_wal_insert_lsn()").fetchone()[0]
    db.commit()
    make_loads_durable(db)
    flushed = db.execute("select pg_current_wal_flush_lsn() >= %s::pg_lsn", (committed,)).fetchone()[0]
    assert flushed
