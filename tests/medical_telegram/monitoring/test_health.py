"""Health checks and their record in the monitoring schema, on real PostgreSQL."""

from __future__ import annotations

import shutil

from medical_telegram.monitoring import health


def test_health_checks_are_recorded(db, warehouse_dsn, lake_root, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    checks = [
        health.check_warehouse(warehouse_dsn),
        health.check_docker(required=False),
        health.check_disk(lake_root, min_free_fraction=0.0),
        health.check_lake(lake_root),
        health.check_api("http://127.0.0.1:9"),
        health.check_telegram_credentials(False, "export"),
    ]
    assert [c.status for c in checks] == ["ok", "warning", "ok", "warning", "failed", "warning"]
    assert health.check_docker(required=True).status == "failed"
    assert health.check_telegram_credentials(False, "api").status == "failed"
    health.record(db, checks, "run-1")
    rows = db.execute("select check_name, status, dag_run_id from monitoring.health_checks order by check_id").fetchall()
    assert rows[0] == ("warehouse", "ok", "run-1") and len(rows) == 6


def test_disk_check_grades_free_space_against_its_threshold(lake_root):
    # Graded against this machine's real free fraction, so the test holds on a full disk as on an empty one.
    free = shutil.disk_usage(lake_root).free / shutil.disk_usage(lake_root).total
    assert 0 < free < 1
    assert health.check_disk(lake_root, min_free_fraction=free / 2).status == "ok"
    assert health.check_disk(lake_root, min_free_fraction=free * 1.5).status == "warning"
    failed = health.check_disk(lake_root, min_free_fraction=free * 2 + 0.01)
    assert failed.status == "failed" and "GiB free" in failed.detail


def test_warehouse_check_fails_without_leaking_the_password():
    check = health.check_warehouse("postgresql://u:topsecret@127.0.0.1:9/none")
    assert check.status == "failed" and "topsecret" not in check.detail
