"""Weekly housekeeping, Sunday 03:00 UTC.

- **lake_retention**: message files older than `lake_retention_days` (90) are removed only when their exact
  content is recorded as loaded in `raw.load_log`; anything else stays.
- **vacuum_analyze**: VACUUM (ANALYZE) of the raw and monitoring tables.
- **trim_old_records**: monitoring rows and Airflow task logs older than their retention (30 days).
"""

from airflow.sdk import dag

from medical_telegram.orchestration.common import maintenance_gate
from medical_telegram.orchestration.defaults import cron, dag_kwargs
from medical_telegram.orchestration.monitoring import lake_retention, trim_old_records, vacuum_analyze


@dag(**dag_kwargs(__file__, __doc__, cron("0 3 * * 0"), ["maintenance"]))
def cleanup():
    maintenance_gate() >> lake_retention() >> vacuum_analyze() >> trim_old_records()


cleanup()
