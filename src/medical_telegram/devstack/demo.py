"""`make run` (`medtel demo`): the main job on the bundled sample, through the local service.

seed the lake with the sample → the service up (warehouse, Airflow, API) → full_pipeline through the scheduler,
then health_check and api_service (the Pipeline monitor's first measurements) → what the lake and the warehouse
hold, the top products, and where to look. `--load-only` does just the lake → raw part, with no Airflow.
"""

from __future__ import annotations

import functools
import logging
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from medical_telegram import lake, warehouse
from medical_telegram.paths import PROJECT_DIR
from medical_telegram.warehouse.loaders.messages import load_messages

SAMPLE_DIR = PROJECT_DIR / "sample"

log = logging.getLogger("medtel.demo")
say = functools.partial(print, file=sys.stderr, flush=True)


class DemoError(RuntimeError):
    pass


# The bundled lakes: @lobelia4cosmetics with its photos, and three days of two wholesale pharmacy channels.
SAMPLE_LAKES = (SAMPLE_DIR / "lake", SAMPLE_DIR / "channels")


def seed_sample_lake(root: Path) -> dict[str, int]:
    """Merge the bundled lake snapshots into the lake; idempotent, existing newer data wins."""
    records, copied = [], 0
    for source in SAMPLE_LAKES:
        records += [lake.MessageRecord.from_dict(r) for path in sorted((source / lake.MESSAGES_DIR).glob("*/*.json"))
                    for r in lake.read_messages(path)]
        for image in sorted((source / lake.IMAGES_DIR).rglob("*.jpg")):
            target = root / image.relative_to(source)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(image, target)
                copied += 1
    lake.write_messages(root, records)
    return {"messages": len(records), "images_copied": copied}


def lake_inventory(root: Path) -> dict[str, dict[str, int]]:
    messages = Counter(p.stem for p in (root / lake.MESSAGES_DIR).glob("*/*.json")
                       for _ in lake.read_messages(p))
    images = Counter(p.parent.name for p in (root / lake.IMAGES_DIR).glob("*/*.jpg"))
    quarantined = sum(1 for p in (root / lake.QUARANTINE_DIR).rglob("*.reason.txt"))
    inventory = {name: {"messages": messages[name], "images": images[name]} for name in sorted(messages | images)}
    return {"channels": inventory, "quarantined_files": quarantined}


def marts_summary(dsn: str) -> dict:
    with warehouse.connect(dsn) as conn:
        counts = {table: conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
                  for table in ("fct_messages", "fct_product_mentions", "fct_image_detections", "dim_channels")}
        top = conn.execute(
            "select product_name, count(*), percentile_cont(0.5) within group (order by price_birr)"
            " from marts.fct_product_mentions group by 1 order by 2 desc, 1 limit 5").fetchall()
    return {"rows": counts, "top_products": [{"product": p, "mentions": n, "median_price_birr": m}
                                             for p, n, m in top]}


def load_only(root: Path, dsn: str) -> dict:
    with warehouse.connect(dsn, migrated=True) as conn:
        return load_messages(conn, root).as_dict()


def run_pipeline(stack) -> dict:
    """The service up, full_pipeline through its scheduler, then the two monitoring DAGs; the service's
    addresses and login."""
    from medical_telegram.devstack import service

    say("Starting the local service (warehouse, Airflow api-server/scheduler/dag-processor/triggerer, API);"
        " what is already up is reused ...")
    began = time.monotonic()
    up = service.up(stack)
    say(f"  up in {time.monotonic() - began:.0f} s; logs in {up['logs']}")
    outcome = service.run_dag(stack, "full_pipeline")
    log.info("full_pipeline: %s, %d tasks", outcome["state"], len(outcome["tasks"]))
    if outcome["state"] != "success":
        failed = [t for t, state in outcome["tasks"].items() if state not in ("success", "skipped")]
        raise DemoError(f"full_pipeline did not succeed (failed: {', '.join(failed) or '?'}); see the run in"
                        f" {stack.airflow_url}/dags/full_pipeline and the logs in {stack.logs}")
    # The monitor's health and API panels start with a first measurement (both run every few minutes once
    # their schedules are on).
    for check in service.run_dags(stack, ["health_check", "api_service"]):
        log.info("%s: %s", check["dag_id"], check["state"])
    return up


def loads_so_far(dsn: str) -> dict:
    with warehouse.connect(dsn) as conn:
        row = conn.execute("select count(*), coalesce(sum(rows_in), 0), coalesce(sum(quarantined), 0)"
                           " from raw.load_log where target = 'telegram_messages'").fetchone()
    return {"files": row[0], "rows_in": row[1], "quarantined": row[2]}


def print_holdings(root: Path, dsn: str, loaded: dict) -> dict:
    """What the lake and raw hold, per channel."""
    with warehouse.connect(dsn) as conn:
        in_warehouse = dict(conn.execute(
            "select channel_name, count(*) from raw.telegram_messages group by 1 order by 1").fetchall())
    inventory = lake_inventory(root)
    say("\nWhat the lake and the warehouse hold now:")
    say(f"  {'channel':<24}{'messages':>10}{'images':>8}{'in raw':>8}")
    for name, counts in inventory["channels"].items():
        say(f"  {name:<24}{counts['messages']:>10}{counts['images']:>8}{in_warehouse.get(name, 0):>8}")
    say(f"  loads so far: {loaded['rows_in']} records read, {loaded['quarantined']} quarantined;"
        f" quarantined files in the lake: {inventory['quarantined_files']}")
    return inventory


def print_where_to_look(stack, marts: dict, credentials: dict) -> None:
    say("  marts: " + ", ".join(f"{table} {n}" for table, n in marts["rows"].items()))
    say("  top products: " + "; ".join(
        f"{p['product']} ({p['mentions']}x, median {p['median_price_birr'] or '-'} birr)"
        for p in marts["top_products"]))
    say(f"""
Running in the background (make stop stops it all):
  Airflow UI       {stack.airflow_url}   login {credentials['user']} / {credentials['password']}
                   (the password is kept in {credentials['file']})
  API              {stack.api_url}/docs
  Pipeline monitor {stack.airflow_url}/plugin/pipeline-monitor   (charts: freshness, volumes, quality, API)
  Data Docs        {PROJECT_DIR / 'include/gx/uncommitted/data_docs/local_site/index.html'} (or Browse -> Data Docs)
  Airflow CLI      source scripts/airflow_env.sh && airflow dags list-runs full_pipeline
  logs             {stack.logs}
Every schedule is off: `airflow dags unpause <dag_id>` switches one on (README, "The DAGs").
""")


def demo(*, only_load: bool = False) -> dict:
    root = lake.lake_dir()
    log.info("lake: %s", root)
    seeded = seed_sample_lake(root)
    log.info("sample lake snapshot: %(messages)d posts merged, %(images_copied)d photos copied", seeded)
    dsn = warehouse.warehouse_dsn()
    log.info("warehouse: %s%s", warehouse.redact(dsn), " (embedded)" if warehouse.configured_dsn() is None else "")
    if only_load:
        loaded = load_only(root, dsn)
        return {"lake": str(root), "load": loaded, "lake_inventory": print_holdings(root, dsn, loaded)}
    from medical_telegram.devstack import service

    stack = service.Stack.from_env()
    up = run_pipeline(stack)
    loaded = loads_so_far(dsn)
    result = {"lake": str(root), "load": loaded, "lake_inventory": print_holdings(root, dsn, loaded),
              "marts": marts_summary(dsn)}
    print_where_to_look(stack, result["marts"], up["login"])
    return result
