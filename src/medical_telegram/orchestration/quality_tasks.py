"""Great Expectations checkpoints as Airflow tasks (GX Core called directly; see medical_telegram.quality)."""

from __future__ import annotations

from airflow.sdk import task, task_group

from medical_telegram.orchestration import assets
from medical_telegram.quality import CHECKPOINTS


@task(task_id="validate")
def validate(checkpoint: str, *, run_id=None) -> dict:
    """Run one checkpoint and record its score (monitoring.quality_results, charted by the Pipeline monitor);
    a failed critical expectation fails this task. Returns the result (and score)."""
    from medical_telegram import quality
    from medical_telegram.warehouse import connect, warehouse_dsn

    result = quality.run_checkpoint(checkpoint, warehouse_dsn(), raise_on_critical=False)
    if result.evaluated:
        with connect(migrated=True) as conn:
            quality.record(conn, result, run_id)
    if result.critical_failures:
        raise quality.QualityError(f"checkpoint {checkpoint}: critical expectation(s) failed: "
                                   + "; ".join(result.critical_failures))
    return result.as_dict()


@task(task_id="build_data_docs", outlets=[assets.DATA_DOCS], trigger_rule="all_done")
def build_data_docs(*, outlet_events=None) -> str:
    """Rebuild the Data Docs site, also after a failed check: that is when people read it."""
    from medical_telegram import quality

    index = quality.build_data_docs()
    outlet_events[assets.DATA_DOCS].extra = {"index": str(index), "checkpoints": sorted(CHECKPOINTS)}
    return str(index)


@task(task_id="any_check_failed", trigger_rule="one_failed")
def any_check_failed() -> None:
    """Fails the run when a checkpoint failed (build_data_docs runs in any case, so it cannot)."""
    raise RuntimeError("a Great Expectations checkpoint failed: see the validate tasks and the Data Docs")


def all_checkpoints(group_id: str = "quality"):
    """Every checkpoint side by side, then the Data Docs; the run fails when a checkpoint did."""

    @task_group(group_id=group_id)
    def checks():
        results = [validate.override(task_id=f"validate_{name}")(name) for name in CHECKPOINTS]
        results >> build_data_docs()
        results >> any_check_failed()

    return checks()
