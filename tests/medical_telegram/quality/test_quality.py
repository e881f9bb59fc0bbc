"""Great Expectations checkpoints against a real warehouse: pass, warn, fail on a critical expectation."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from medical_telegram import quality
from medical_telegram.warehouse.loader import load_messages

REPO = Path(__file__).resolve().parents[3]
SAMPLE_LAKE = REPO / "sample" / "lake"


@pytest.fixture
def gx_root(tmp_path) -> Path:
    """A copy of the committed context, so a test run never writes into include/gx."""
    shutil.copytree(REPO / "include" / "gx", tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    return tmp_path


@pytest.fixture
def loaded(warehouse_dsn) -> str:
    with psycopg.connect(warehouse_dsn) as conn:
        load_messages(conn, SAMPLE_LAKE)
    return warehouse_dsn


def test_raw_checkpoint_passes_on_the_sample_and_builds_data_docs(loaded, gx_root):
    result = quality.run_checkpoint("raw_messages", loaded, gx_root)
    assert result.success and result.score == 1.0 and result.evaluated >= 4
    assert (quality.data_docs_dir(gx_root) / "index.html").is_file()


def test_a_failed_warning_is_reported_but_does_not_fail(loaded, gx_root):
    with psycopg.connect(loaded) as conn:  # a source that stopped giving view counts: a distribution warning
        conn.execute("update raw.telegram_messages set views = null")
    result = quality.run_checkpoint("raw_messages", loaded, gx_root)
    assert result.success and result.score < 1.0
    assert result.warnings == ["raw_telegram_messages: expect_column_values_to_not_be_null(views)"]


def test_a_failed_critical_expectation_raises(loaded, gx_root):
    with psycopg.connect(loaded) as conn:  # a row no load brought: raw no longer reconciles with the loads
        conn.execute("insert into raw.telegram_messages (channel_name, message_id, message_date, source,"
                     " scraped_at, raw, lake_file) values ('byhand', 1, now(), 'telethon', now(), '{}', 'none')")
    with pytest.raises(quality.QualityError, match="raw holds exactly the records the loads inserted"):
        quality.run_checkpoint("raw_messages", loaded, gx_root)
    result = quality.run_checkpoint("raw_messages", loaded, gx_root, raise_on_critical=False)
    assert not result.success and result.critical_failures


def test_a_mart_missing_a_staged_message_fails_its_reconciliation(make_database, gx_root):
    from medical_telegram.transform.dbt_runner import run_dbt
    from medical_telegram.warehouse.migrate import migrate

    dsn = make_database("mtw_gx_marts")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, SAMPLE_LAKE)
    run_dbt(["seed"], dsn)
    run_dbt(["run", "--select", "+fct_messages", "+dim_channels", "+dim_dates"], dsn)
    assert quality.run_checkpoint("marts", dsn, gx_root).success
    with psycopg.connect(dsn) as conn:
        conn.execute("delete from marts.fct_messages where message_id = (select min(message_id)"
                     " from marts.fct_messages)")
    result = quality.run_checkpoint("marts", dsn, gx_root, raise_on_critical=False)
    assert sorted(result.critical_failures) == [
        "dim_channels: unexpected_rows_expectation(the channels' post counts add up to the messages)",
        "fct_messages: unexpected_rows_expectation(every staged message is in the mart)"]


def test_tables_not_built_yet_are_skipped(warehouse_dsn, gx_root):
    result = quality.run_checkpoint("marts", warehouse_dsn, gx_root)
    assert result.success and result.evaluated == 0
    assert result.skipped_tables == ["marts.fct_messages", "marts.dim_channels", "marts.dim_dates"]


def test_marts_and_detections_pass_on_the_sample_warehouse(sample_warehouse_dsn, gx_root):
    for checkpoint in ("staging", "marts", "detections"):
        result = quality.run_checkpoint(checkpoint, sample_warehouse_dsn, gx_root)
        assert result.success and not result.skipped_tables, result.as_dict()


def _committed(gx_root: Path) -> dict:
    return {p: p.read_bytes() for p in (gx_root / "gx").rglob("*") if p.is_file() and "uncommitted" not in p.parts}


def test_a_partly_built_layer_is_checked_without_rewriting_its_checkpoint(loaded, gx_root):
    before = _committed(gx_root)
    result = quality.run_checkpoint("detections", loaded, gx_root)  # raw.image_detections only, no marts yet
    assert result.success and result.skipped_tables == ["marts.fct_image_detections"]
    assert result.evaluated > 0
    assert _committed(gx_root) == before


def test_running_checks_does_not_rewrite_the_committed_context(sample_warehouse_dsn, gx_root):
    def committed():
        return _committed(gx_root)

    before = committed()
    for checkpoint in quality.CHECKPOINTS:
        quality.run_checkpoint(checkpoint, sample_warehouse_dsn, gx_root)
    assert committed() == before
