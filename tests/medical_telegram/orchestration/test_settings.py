"""Run-time settings: Airflow Variable, else environment, else default; the maintenance switch."""

from __future__ import annotations

import pytest

from medical_telegram.orchestration import settings
from medical_telegram.orchestration.maintenance import in_maintenance
from medical_telegram.orchestration.ingestion import source_commands

CREDS = ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION", "TELEGRAM_SOURCE", "AIRFLOW_VAR_TELEGRAM_SOURCE")


@pytest.fixture
def no_creds(monkeypatch):
    for name in CREDS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_TELEGRAM_API", raising=False)


def test_without_credentials_the_bundled_export_is_imported(no_creds, monkeypatch):
    monkeypatch.setenv("TELEGRAM_EXPORT_CHANNEL", "lobelia4cosmetics")
    assert settings.telegram_source() == "export"
    assert source_commands() == [["import-export", "{export}", "--channel", "lobelia4cosmetics"]]


def test_with_credentials_each_channel_is_scraped(no_creds, monkeypatch):
    monkeypatch.setenv("TELEGRAM_API_ID", "12345")
    monkeypatch.setenv("TELEGRAM_API_HASH", "0123456789abcdef")
    monkeypatch.setenv("TELEGRAM_CHANNELS", "@CheMed123, tikvahpharma")
    assert settings.telegram_source() == "api"
    assert source_commands(refresh_days=3) == [
        ["scrape", "--channels", "chemed123", "--refresh-days", "3"],
        ["scrape", "--channels", "tikvahpharma", "--refresh-days", "3"],
    ]


def test_credentials_come_from_the_airflow_connection(no_creds, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TELEGRAM_API",
                       '{"conn_type": "generic", "login": "777", "password": "hash-value", "extra": {"session": "S"}}')
    assert settings.telegram_credentials() == {"TELEGRAM_API_ID": "777", "TELEGRAM_API_HASH": "hash-value",
                                               "TELEGRAM_SESSION": "S"}


def test_an_airflow_variable_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CONTAINER_RUNTIME", "docker")
    monkeypatch.setenv("AIRFLOW_VAR_CONTAINER_RUNTIME", "local")
    assert settings.container_runtime() == "local"
    monkeypatch.setenv("AIRFLOW_VAR_CONTAINER_RUNTIME", "kubernetes")
    with pytest.raises(ValueError, match="'docker' or 'local'"):
        settings.container_runtime()


def test_channels_accept_json_or_commas(monkeypatch):
    monkeypatch.setenv("TELEGRAM_CHANNELS", '["@A_one", "b_two"]')
    assert settings.channels() == ["a_one", "b_two"]
    monkeypatch.delenv("TELEGRAM_CHANNELS")
    registry = settings.CHANNEL_REGISTRY.read_text().splitlines()[1:]
    assert settings.channels() == [line.split(",")[0] for line in registry]  # the seed is the one registry
    assert {"lobelia4cosmetics", "tikvahpharma", "chemed123"} <= set(settings.channels())


def test_maintenance_mode_holds_scheduled_runs_only(monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_MAINTENANCE_MODE", "true")
    assert in_maintenance("scheduled") and in_maintenance("asset_triggered")
    assert not in_maintenance("manual")
    monkeypatch.setenv("AIRFLOW_VAR_MAINTENANCE_MODE", "false")
    assert not in_maintenance("scheduled")


def test_the_gate_task_skips_a_scheduled_run_in_maintenance(monkeypatch):
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowSkipException

    from medical_telegram.orchestration.maintenance import maintenance_gate

    monkeypatch.setenv("AIRFLOW_VAR_MAINTENANCE_MODE", "on")
    with pytest.raises(AirflowSkipException, match="maintenance_mode"):
        maintenance_gate.function(dag_run=SimpleNamespace(run_type="scheduled"))
    assert maintenance_gate.function(dag_run=SimpleNamespace(run_type="manual")) == "open"
