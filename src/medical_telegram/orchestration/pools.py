"""Airflow pools the DAGs use (created by the local service and by compose's init)."""

from __future__ import annotations

# One Telegram account must not be flooded; one GPU runs one detector at a time.
TELEGRAM_POOL = "telegram"
TELEGRAM_POOL_SLOTS = 2
GPU_POOL = "gpu"
GPU_POOL_SLOTS = 1
# One loader at a time: two runs that ingest at once (full_pipeline and data_ingestion) would both load the
# same new lake file. (Writers of a channel's lake files take the channel's file lock, lake.channel_lock.)
RAW_LOAD_POOL = "raw_load"
# One dbt build of the warehouse at a time (the WATCHER producer of every DAG that builds models).
DBT_BUILD_POOL = "dbt_build"
POOLS = {
    TELEGRAM_POOL: (TELEGRAM_POOL_SLOTS, "Telegram API calls: keeps one account under its flood limits"),
    GPU_POOL: (GPU_POOL_SLOTS, "the detector's GPU: one container at a time"),
    RAW_LOAD_POOL: (1, "loads into the raw tables: one at a time, so overlapping runs never load a file twice"),
    DBT_BUILD_POOL: (1, "dbt builds of the warehouse: one at a time, so two runs never build the same models at once"),
}
