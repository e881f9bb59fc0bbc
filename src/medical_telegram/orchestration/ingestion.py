"""The ingestion task group: scrape (or import an export) → load raw → validate raw → publish.

Used by data_ingestion (hourly), engagement_refresh (daily, re-reading the last days so views and forwards
stay current) and full_pipeline. Scraping fans out per channel with dynamic task mapping in the `telegram`
pool. Where messages come from is configuration (Variable/env TELEGRAM_SOURCE = api | export, and
TELEGRAM_EXPORT_PATH), not a branch in the DAG: in export mode the fan-out has one item, the import.

One source failing does not hold back the others: load_raw runs once every scrape has finished, failed or not
(never when the run was skipped), and loads whatever reached the lake. The failure is then reported by
report_sources, which fails the run after the load, naming each failed source run.
"""

from __future__ import annotations

import json
import logging

from airflow.sdk import Metadata, task, task_group

from medical_telegram import lake
from medical_telegram.orchestration import alerts, assets, settings
from medical_telegram.orchestration.pools import RAW_LOAD_POOL, TELEGRAM_POOL
from medical_telegram.warehouse import connect
from medical_telegram.orchestration.containers import ContainerTaskOperator
from medical_telegram.orchestration.quality_tasks import validate

log = logging.getLogger(__name__)


def source_commands(refresh_days: int | None = None) -> list[list[str]]:
    """The scraper invocations of one run: one per channel from the API, or one import of the export."""
    if settings.telegram_source() == "export":
        # An export names no @username: telegram_export_channel names the channel (else channel_<id>).
        run = settings.RunSettings.read("telegram_export_channel", "telegram_export_timezone")
        channel, zone = run.telegram_export_channel, run.telegram_export_timezone
        return [["import-export", "{export}", *(["--channel", channel] if channel else []),
                 *(["--timezone", zone] if zone else [])]]
    refresh = ["--refresh-days", str(refresh_days)] if refresh_days else []
    return [["scrape", "--channels", channel, *refresh] for channel in settings.channels()]


@task(task_id="plan_sources", retries=1)
def plan_sources(refresh_days: int | None = None) -> list[list[str]]:
    commands = source_commands(refresh_days)
    log.info("source %s: %d scraper run(s)", settings.telegram_source(), len(commands))
    return commands


# none_skipped: after every scrape, succeeded or failed, but not when the run itself was skipped
# (maintenance_gate), which skips every task after it.
@task(task_id="load_raw", trigger_rule="none_skipped")
def load_raw(scrape_results, *, ti=None, run_id=None) -> dict:
    """Load every lake message file not loaded yet (checksums in raw.load_log) into raw.telegram_messages,
    including what a failed scrape made durable before it failed."""
    from medical_telegram.warehouse.loaders.messages import load_messages

    # len() of the mapped results is one count query (iterating would probe past the end).
    log.info("%d scraper run(s) finished; loading the lake %s", len(scrape_results), lake.lake_dir())
    run = settings.RunSettings.read("load_lock_wait_s", "quarantine_alert_share")
    with connect(migrated=True) as conn:
        summary = load_messages(conn, lake.lake_dir(), lock_wait_s=run.load_lock_wait_s)
        counts = {**summary.as_dict(), "photos_given_up": photos_given_up(scrape_results)}
        what = f"{ti.dag_id}.{ti.task_id}" if ti else "load_raw"
        alerts.losses_alert(conn, what, counts, run.quarantine_alert_share, run_id)
    summary.check_something_loaded()  # a load that quarantined every record fails, saying why
    return summary.as_dict()


def photos_given_up(scrape_results) -> int:
    """Photos the scrapers gave up after their retries, from their summary lines (XComs)."""
    total = 0
    for line in scrape_results or []:
        try:
            total += int(json.loads(line)["totals"].get("photos_given_up", 0))
        except (TypeError, ValueError, KeyError, AttributeError):  # a failed scrape left no summary
            continue
    return total


def failed_sources(commands: list[list[str]], states: dict[str, str], scrape_task_id: str) -> list[str]:
    """The source runs (scraper commands) whose mapped scrape task did not succeed."""
    return [" ".join(command) for index, command in enumerate(commands)
            if states.get(f"{scrape_task_id}_{index}") != "success"]


@task(task_id="report_sources", trigger_rule="none_skipped")
def report_sources(commands: list[list[str]], scrape_task_id: str, *, ti=None) -> dict:
    """Fail the run, after the load, when a source run failed; name each. The others are loaded by then."""
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[scrape_task_id], run_ids=[ti.run_id])
    failed = failed_sources(commands, states.get(ti.run_id, {}), scrape_task_id)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(commands)} source run(s) failed: {'; '.join(failed)}. What the"
                           " others (and the failed ones, up to their failure) wrote to the lake was loaded by"
                           " load_raw; see the failed scrape tasks' logs.")
    log.info("all %d source run(s) succeeded", len(commands))
    return {"sources": len(commands), "failed": 0}


def _new_photos(scrape_results) -> int:
    """Photos the scraper runs added to the lake: `images` of a scrape, `photos_copied` of an import."""
    from medical_telegram.orchestration.containers import summary

    total = 0
    for line in scrape_results:
        result = summary(line)
        total += int(result.get("totals", {}).get("images", 0) or result.get("photos_copied", 0) or 0)
    return total


def _publish_raw_messages(load: dict, quality: dict):
    """Emit the raw-messages Asset events, with what changed and the score; none when no row changed."""
    from airflow.sdk.exceptions import AirflowSkipException

    extra = {
        "rows_in": load.get("rows_in", 0),
        "rows_loaded": load.get("inserted", 0) + load.get("updated", 0),
        "inserted": load.get("inserted", 0),
        "updated": load.get("updated", 0),
        "quarantined": load.get("quarantined", 0),
        "files_loaded": load.get("files_loaded", 0),
        "quality_score": quality.get("score"),
        "quality_warnings": len(quality.get("warnings", [])),
    }
    if not extra["rows_loaded"]:
        raise AirflowSkipException(f"no row inserted or updated ({extra['rows_in']} read): no Asset event")
    return extra


def _publish_lake_images(scrape_results) -> dict:
    from airflow.sdk.exceptions import AirflowSkipException

    photos = _new_photos(scrape_results)
    if not photos:
        raise AirflowSkipException("no new photos in the lake: no Asset event")
    log.info("%d new photos in the lake", photos)
    return {"new_photos": photos}


def ingestion_group(*, emits, group_id: str = "ingest", refresh_days: int | None = None):
    """scrape ×N (mapped, pool telegram) → load_raw → validate_raw (GX) → publish_raw_messages, and
    publish_lake_images beside it; report_sources after load_raw (fails the run when a scrape failed).

    emits: which of the Assets other DAGs are scheduled on the group announces, raw_telegram_messages and
    lake_telegram_images (the lineage Assets lake_telegram_messages and the raw table's are always emitted).
    full_pipeline passes none: it does data_transformation's and ml_enrichment's work itself, so its runs must
    not queue them to do it again. The publish tasks emit only when something changed (rows inserted or
    updated, new photos); otherwise they end as skipped, and a skipped task emits nothing.
    """
    unknown = set(emits) - {assets.RAW_MESSAGES, assets.LAKE_IMAGES}
    if unknown:
        raise ValueError(f"ingestion_group emits raw_telegram_messages or lake_telegram_images, not {unknown}")
    raw_outlets = [assets.LAKE_MESSAGES, assets.PG_RAW_MESSAGES, *([assets.RAW_MESSAGES]
                                                                   if assets.RAW_MESSAGES in emits else [])]

    @task(task_id="publish_raw_messages", outlets=raw_outlets)
    def publish_raw_messages(load: dict, quality: dict):
        extra = _publish_raw_messages(load, quality)
        for asset in raw_outlets:
            yield Metadata(asset, extra)
        return extra

    @task(task_id="publish_lake_images", outlets=[assets.LAKE_IMAGES])
    def publish_lake_images(scrape_results):
        extra = _publish_lake_images(scrape_results)
        yield Metadata(assets.LAKE_IMAGES, extra)
        return extra

    @task_group(group_id=group_id)
    def ingest():
        commands = plan_sources(refresh_days)
        scraped = ContainerTaskOperator.partial(
            task_id="scrape",
            spec_name="scraper",
            pool=TELEGRAM_POOL,
            map_index_template="{{ task.command | join(' ') }}",
        ).expand(command=commands)
        loaded = load_raw.override(pool=RAW_LOAD_POOL)(scraped.output)
        loaded >> report_sources(commands, scraped.task_id)
        checked = validate.override(task_id="validate_raw")("raw_messages")
        loaded >> checked
        publish_raw_messages(loaded, checked)
        if assets.LAKE_IMAGES in emits:  # after the load, so ml_enrichment finds the photos' messages in raw
            checked >> publish_lake_images(scraped.output)

    return ingest()
