"""medical_telegram.transform.dbt_runner: the WAREHOUSE_* environment from a DSN, and clear errors."""

from __future__ import annotations

import pytest

from medical_telegram.transform import dbt_runner
from medical_telegram.transform.dbt_runner import DbtError, dbt_env, run_dbt


def test_dbt_env_from_uri():
    assert dbt_env("postgresql://analyst:s%40cret@db.example:6543/warehouse") == {
        "WAREHOUSE_HOST": "db.example", "WAREHOUSE_PORT": "6543", "WAREHOUSE_USER": "analyst",
        "WAREHOUSE_PASSWORD": "s@cret", "WAREHOUSE_DBNAME": "warehouse"}


def test_dbt_env_defaults_and_key_value_dsn():
    env = dbt_env("host=127.0.0.1 dbname=mtw")
    assert env["WAREHOUSE_PORT"] == "5432" and env["WAREHOUSE_PASSWORD"] == "" and env["WAREHOUSE_DBNAME"] == "mtw"


def test_dbt_env_refuses_a_socket_host():
    with pytest.raises(DbtError, match="TCP host"):
        dbt_env("postgresql://postgres@%2Ftmp%2Fsocket/warehouse")


def test_run_dbt_names_the_failing_command(tmp_path):
    with pytest.raises(DbtError, match=r"`dbt parse --no-such-option` failed with exit code 2"):
        run_dbt(["parse", "--no-such-option"], "postgresql://postgres@127.0.0.1:5432/postgres",
                target_path=tmp_path)


def test_run_dbt_without_dbt_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("DBT_EXECUTABLE", str(tmp_path / "missing" / "dbt"))
    with pytest.raises(DbtError, match="make setup"):
        run_dbt(["--version"])
    assert dbt_runner.dbt_executable() == tmp_path / "missing" / "dbt"
