"""Daily engagement refresh (the ninth schedule): re-read the last days of every channel.

Views and forwards keep growing after a post is published; this run scrapes the last
`ENGAGEMENT_REFRESH_DAYS` (3) days again with `telegram-scraper scrape --refresh-days`, and the loader's
upsert updates the counts in `raw.telegram_messages`. It is the same task group as data_ingestion (same
scraper container, pool, loader, checkpoint and Asset event), so data_transformation follows it.

A separate DAG rather than a second timetable on data_ingestion: its runs, durations and failures are
then told apart in the UI, and its own schedule can be paused alone.
"""

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.ingestion import ingestion_group

ENGAGEMENT_REFRESH_DAYS = 3


@dag(**dag_kwargs(__file__, __doc__, cron("30 4 * * *"), ["ingestion"]))
def engagement_refresh():
    maintenance_gate() >> ingestion_group(refresh_days=ENGAGEMENT_REFRESH_DAYS)


engagement_refresh()
