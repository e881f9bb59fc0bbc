"""What every DAG shares: its default task arguments and the schedule helper.

No DAG has a start_date, on purpose: with one, a DAG switched on runs its latest past interval at once
(catchup=False still runs the most recent one), so unpausing the nine DAGs started nine runs together.
Without it, and with cron() below, each first scheduled run waits for the schedule's next time.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable

from medical_telegram.orchestration.alerts import on_failure_alert
from medical_telegram.orchestration.settings import DagSettings

TAGS = ["medical-telegram"]

# MEDTEL_RETRY_DELAY_S shortens the wait between tries (tests, local runs); backoff doubles it each try.
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(seconds=DagSettings().medtel_retry_delay_s),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": on_failure_alert,
}


def cron(expression: str) -> CronTriggerTimetable:
    """A cron schedule in UTC whose first run, once the DAG is switched on, is its next time, never a past one.

    (run_immediately=False still runs the latest past time when it is less than a tenth of the period ago;
    a zero timedelta never does.)
    """
    return CronTriggerTimetable(expression, timezone="UTC", run_immediately=timedelta(0))
