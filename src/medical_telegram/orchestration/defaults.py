"""What every DAG shares: default arguments, start date, the standard DAG keyword arguments."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from medical_telegram.orchestration.alerts import on_failure_alert

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = "data-engineering"


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
    """
    kwargs = {
        "dag_id": Path(file).stem,
        "doc_md": doc,
        "schedule": schedule,
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["medical-telegram", *tags],
        "default_args": default_args(**overrides.pop("default_args", {})),
    }
    kwargs.update(overrides)
    return kwargs
