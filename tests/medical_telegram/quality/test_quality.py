"""Great Expectations checkpoints against a real warehouse: pass, warn, fail on a critical expectation."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from medical_telegram import quality
from medical_telegram.warehouse.loaders.messages import load_messages
from tests.support.gx_context import gx_context_copy

REPO = Path(__file__).resolve().parents[3]
SAMPLE_LAKE = REPO / "sample" / "lake"


@pytest.fixture
def gx_root(tmp_path) -> Path:
    """A copy of the context as committed, so a test run never writes into include/gx."""
    return gx_context_copy(tmp_path)


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


def _context_files(gx_root: Path) -> dict:
    return {p: p.read_bytes() for p in (gx_root / "gx").rglob("*") if p.is_file() and "uncommitted" not in p.parts}


def test_the_repository_holds_no_generated_suite():
    """The suites are code (quality/suites.py); their JSON is written at run time, never committed."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files", "include/gx"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "include/gx/great_expectations.yml" in tracked
    assert not [p for p in tracked if p.split("/")[2] in ("expectations", "validation_definitions", "checkpoints")]
    for folder in ("expectations", "validation_definitions", "checkpoints"):
        ignored = subprocess.run(["git", "check-ignore", "-q", f"include/gx/{folder}/x.json"], cwd=REPO)
        assert ignored.returncode == 0, f"include/gx/{folder} is not git-ignored"


def test_a_partly_built_layer_is_checked_without_writing_its_checkpoint(loaded, gx_root):
    result = quality.run_checkpoint("detections", loaded, gx_root)  # raw.image_detections only, no marts yet
    assert result.success and result.skipped_tables == ["marts.fct_image_detections"]
    assert result.evaluated > 0
    assert (gx_root / "gx" / "expectations" / "raw_image_detections.json").is_file()
    assert not (gx_root / "gx" / "checkpoints" / "detections.json").exists()


def test_the_first_run_writes_the_context_and_later_runs_do_not_rewrite_it(sample_warehouse_dsn, gx_root):
    for checkpoint in quality.CHECKPOINTS:
        quality.run_checkpoint(checkpoint, sample_warehouse_dsn, gx_root)
    written = _context_files(gx_root)
    assert {p.name for p in written if p.parent.name == "checkpoints"} == {
        f"{name}.json" for name in quality.CHECKPOINTS}
    for checkpoint in quality.CHECKPOINTS:
        quality.run_checkpoint(checkpoint, sample_warehouse_dsn, gx_root)
    assert _context_files(gx_root) == written


def test_an_hour_of_loads_that_quarantined_too_much_is_a_warning(loaded, gx_root):
    with psycopg.connect(loaded) as conn:  # one more load in the same hour: 9 of 10 records quarantined
        conn.execute("insert into raw.load_log (target, file_path, checksum, status, rows_in, inserted,"
                     " quarantined, started_at) values ('telegram_messages', 'x.json', 'c', 'loaded', 10, 0, 9,"
                     " now())")
    result = quality.run_checkpoint("raw_messages", loaded, gx_root)
    assert result.success and result.warnings == [
        "raw_telegram_messages: unexpected_rows_expectation(no hour of loads quarantined over 5%)"]
