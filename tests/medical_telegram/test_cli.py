import json
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from medical_telegram import warehouse
from medical_telegram.cli import main

PROJECT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "medical_telegram", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_every_command_has_help():
    for command in ("import-export", "load", "migrate", "warehouse", "demo"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "usage: medtel" in result.stdout


def test_demo_imports_and_loads_the_sample_then_a_rerun_changes_nothing(tmp_path, warehouse_dsn, monkeypatch,
                                                                        capsys):
    monkeypatch.setenv("DATA_LAKE_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_DB", raising=False)
    assert main(["demo", "--load-only"]) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["load"]["inserted"] == 227 and first["load"]["quarantined"] == 0
    assert first["lake_inventory"]["channels"] == {"lobelia4cosmetics": {"messages": 100, "images": 122},
                                                   "pharmacyhubethiopia": {"messages": 56, "images": 0},
                                                   "tikvahpharma": {"messages": 71, "images": 0}}
    assert main(["demo", "--load-only"]) == 0
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert second["load"]["rows_in"] == 0 and second["load"]["files_skipped"] == first["load"]["files"]
    with psycopg.connect(warehouse_dsn) as conn:
        views, image = conn.execute(
            "select views, image_path from raw.telegram_messages where message_id = 22946").fetchone()
    assert (views, image) == (167, "raw/images/lobelia4cosmetics/22946.jpg")


def test_broken_export_is_one_line_error_and_exit_1(tmp_path):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "result.json").write_text("{ not json")
    result = run_cli("import-export", str(tmp_path / "export"),
                     env={"DATA_LAKE_DIR": str(tmp_path / "lake"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("medtel import-export: error:")
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_warehouse_is_a_clear_error_without_password(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("migrate", env={"WAREHOUSE_DSN": f"postgresql://analyst:s3cret@127.0.0.1:{port}/x",
                                     "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "cannot reach the warehouse at postgresql://analyst:***@127.0.0.1" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://wh:p%40ss@db.example:5433/warehouse", "postgresql://wh:p%40ss@db.example:5433/warehouse"),
        ('{"conn_type": "postgres", "host": "db", "login": "wh", "password": "p@ss", "port": 5433,'
         ' "schema": "warehouse"}', "postgresql://wh:p%40ss@db:5433/warehouse"),
    ],
)
def test_airflow_connection_becomes_a_dsn(value, expected):
    assert warehouse.dsn_from_airflow_conn(value) == expected


def test_airflow_connection_wins_over_warehouse_dsn(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgres://a@h1:1/d1")
    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://b@h2:2/d2")
    assert warehouse.warehouse_dsn() == "postgresql://a@h1:1/d1"


def test_embedded_warehouse_starts_when_nothing_is_configured_and_is_reused(tmp_path, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE_DB", raising=False)
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.setenv("WAREHOUSE_EMBEDDED_DIR", str(tmp_path / "wh"))
    monkeypatch.setenv("WAREHOUSE_EMBEDDED_PORT", str(port))
    embedded = warehouse.EmbeddedPostgres()
    try:
        dsn = warehouse.warehouse_dsn()
        password = embedded.password_file.read_text()
        assert dsn == f"postgresql://postgres:{password}@127.0.0.1:{port}/warehouse"
        assert embedded.password_file.stat().st_mode & 0o777 == 0o600
        with psycopg.connect(dsn) as conn:
            conn.execute("create table kept (x int)")
        # Any local account without the password is refused: the socket and 127.0.0.1 alike.
        for nopassword in (f"postgresql://postgres@127.0.0.1:{port}/warehouse",
                           f"host={embedded.socket_dir} port={port} user=postgres dbname=warehouse"):
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(nopassword, connect_timeout=5).close()
        embedded.stop()
        assert not embedded.is_running()
        assert warehouse.warehouse_dsn() == dsn  # started again on the same data
        with psycopg.connect(dsn) as conn:
            assert conn.execute("select to_regclass('kept')").fetchone()[0] == "kept"
    finally:
        embedded.stop()


def test_embedded_warehouse_refuses_a_port_held_by_another_server(tmp_path, monkeypatch):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        monkeypatch.setenv("WAREHOUSE_EMBEDDED_PORT", str(other.getsockname()[1]))
        with pytest.raises(warehouse.WarehouseError, match="not the embedded warehouse"):
            warehouse.EmbeddedPostgres(tmp_path / "wh").start()


def test_load_that_quarantines_everything_exits_1_and_says_why(tmp_path, warehouse_dsn):
    day = tmp_path / "lake" / "raw" / "telegram_messages" / "2026-01-18"
    day.mkdir(parents=True)
    (day / "shop.json").write_text(json.dumps([{"channel_name": "shop", "message_id": 1,
                                                 "message_date": "not a date"}]))
    result = run_cli("load", env={"DATA_LAKE_DIR": str(tmp_path / "lake"), "WAREHOUSE_DSN": warehouse_dsn,
                                  "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("medtel load: error: all 1 records read from 1 file(s) were quarantined")
    assert "not a valid ISO-8601 timestamp" in error and "Traceback" not in result.stderr


def test_an_embedded_warehouse_made_before_passwords_gets_one(tmp_path):
    """A cluster from an earlier version trusted every local account: its next start sets a password."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedded = warehouse.EmbeddedPostgres(tmp_path / "wh", port=port)
    try:
        embedded.start()
        hba = embedded.pgdata / "pg_hba.conf"
        embedded.stop()
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))  # as the old initdb wrote it
        embedded.password_file.unlink()
        dsn = embedded.start()
        assert "trust" not in warehouse._hba_methods(hba) and embedded.password_file.exists()
        psycopg.connect(dsn).close()
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/warehouse", connect_timeout=5).close()
    finally:
        embedded.stop()
