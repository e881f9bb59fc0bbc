"""The Assets of the pipeline, declared once.

Downstream DAGs are scheduled on the project's own Asset names (scheme `medtel://`), which are the same on
every machine. The warehouse tables are also declared under their PostgreSQL URIs
(`postgres://host:port/database/schema/table`, the form Cosmos uses for the dbt models it emits), so the
Assets view links our loaders to Cosmos's models; those URIs embed host and port and so are outlets only,
never schedules.
"""

from __future__ import annotations

from airflow.sdk import Asset

_SCHEME = "medtel"


def _asset(name: str, path: str, group: str) -> Asset:
    return Asset(name=name, uri=f"{_SCHEME}://{path}", group=group)


# The lake (files under DATA_LAKE_DIR).
LAKE_MESSAGES = _asset("lake_telegram_messages", "lake/raw/telegram_messages", "lake")
LAKE_IMAGES = _asset("lake_telegram_images", "lake/raw/images", "lake")
LAKE_DETECTIONS = _asset("lake_image_detections", "lake/enriched/detections", "lake")

# The warehouse, under names that do not depend on where it runs.
RAW_MESSAGES = _asset("raw_telegram_messages", "warehouse/raw/telegram_messages", "warehouse")
RAW_DETECTIONS = _asset("raw_image_detections", "warehouse/raw/image_detections", "warehouse")
MARTS = _asset("warehouse_marts", "warehouse/marts", "warehouse")
MARTS_DETECTIONS = _asset("marts_fct_image_detections", "warehouse/marts/fct_image_detections", "warehouse")

# Checks and monitoring.
DATA_DOCS = _asset("gx_data_docs", "quality/data_docs", "quality")
HEALTH = _asset("monitoring_health_checks", "warehouse/monitoring/health_checks", "monitoring")
API_METRICS = _asset("monitoring_api_metrics", "warehouse/monitoring/api_metrics", "monitoring")


def postgres_table_asset(schema: str, table: str) -> Asset:
    """The Asset of a warehouse table under its PostgreSQL URI, from the configured connection.

    Only host, port and database are used (never credentials), and nothing connects: when no warehouse is
    configured, the embedded server's address is assumed. The environment only, as at every DAG parse.
    """
    from medical_telegram import warehouse

    host, port, database = warehouse.address(warehouse.configured_dsn(ask_airflow=False)
                                             or warehouse.EmbeddedPostgres().dsn)
    return Asset(f"postgres://{host}:{port}/{database}/{schema}/{table}", group="warehouse")


PG_RAW_MESSAGES = postgres_table_asset("raw", "telegram_messages")
PG_RAW_DETECTIONS = postgres_table_asset("raw", "image_detections")

ALL = (LAKE_MESSAGES, LAKE_IMAGES, LAKE_DETECTIONS, RAW_MESSAGES, RAW_DETECTIONS, MARTS, MARTS_DETECTIONS,
       DATA_DOCS, HEALTH, API_METRICS, PG_RAW_MESSAGES, PG_RAW_DETECTIONS)
