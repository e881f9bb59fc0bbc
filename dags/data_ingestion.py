"""Hourly ingestion: scrape each channel (or import the Telegram Desktop export) → load raw → validate raw.

- **scrape**: the scraper container, one mapped task per channel, in the `telegram` pool. Source, channels
  and runtime are configuration: Variables/env `telegram_source` (api | export), `telegram_channels`,
  `telegram_export_path`, `container_runtime` (docker | local).
- **load_raw**: lake files not loaded yet → `raw.telegram_messages` (COPY + upsert, `raw.load_log`); runs when
  every scrape has finished, also when some failed, and loads what reached the lake.
- **report_sources**: fails the run after the load when a scrape failed, naming each failed source.
- **validate_raw**: the Great Expectations checkpoint `raw_messages`; a critical failure stops here.
- **publish_raw_messages**: the Asset event that queues `data_transformation`, carrying rows loaded,
  rows quarantined and the quality score.

Skipped while the Variable `maintenance_mode` is on (manual runs still run).
"""

from airflow.sdk import CronTriggerTimetable, dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import dag_kwargs
from medical_telegram.orchestration.ingestion import ingestion_group


@dag(**dag_kwargs(__file__, __doc__, CronTriggerTimetable("0 * * * *", timezone="UTC"), ["ingestion"]))
def data_ingestion():
    maintenance_gate() >> ingestion_group()


data_ingestion()
