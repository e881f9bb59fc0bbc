"""What every DAG shares: default arguments, the schedule helper, the standard DAG keyword arguments."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from airflow.sdk import CronTriggerTimetable

from medical_telegram.orchestration.alerts import on_failure_alert

OWNER = "data-engineering"


def cron(expression: str) -> CronTriggerTimetable:
    """A cron schedule in UTC whose first run, once the DAG is switched on, is its next time, never a past one.

    (run_immediately=False still runs the latest past time when it is less than a tenth of the period ago;
    a zero timedelta never does.) Together with no start_date (see dag_kwargs), switching the nine DAGs on
    starts nothing at once.
    """
    return CronTriggerTimetable(expression, timezone="UTC", run_immediately=timedelta(0))


def default_args(**overrides) -> dict:
    # MEDTEL_RETRY_DELAY_S shortens the wait between tries (tests, local runs); backoff doubles it each try.
    delay = float(os.environ.get("MEDTEL_RETRY_DELAY_S") or 60)
    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=delay),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": on_failure_alert,
    }
    args.update(overrides)
    return args


def dag_kwargs(file: str, doc: str | None, schedule, tags: list[str], **overrides) -> dict:
    """Keyword arguments for @dag: dag_id is the file's name, doc_md the module docstring.

    Call it as `dag_kwargs(__file__, __doc__, schedule, tags)`.

    No start_date, on purpose: with one, a DAG switched on runs its latest past interval at once (catchup=False
    still runs the most recent one), so unpausing the nine DAGs started nine runs together. Without it, each
    first scheduled run waits for the schedule's next time (cron(): run_immediately=timedelta(0)).
    """
    kwargs = {
        "dag_id": Path(file).stem,
        "doc_md": doc,
        "schedule": schedule,
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["medical-telegram", *tags],
        "default_args": default_args(**overrides.pop("default_args", {})),
    }
    kwargs.update(overrides)
    return kwargs
