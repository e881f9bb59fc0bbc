"""Container health check of an Airflow component: healthy while a running job of its type (SchedulerJob,
DagProcessorJob, TriggererJob) heartbeated in the metadata database within the last minute.

`airflow jobs check` does the same but imports all of Airflow first, which can outlast the health check's
timeout when the CPU is busy with tasks; this is one query. The database URL comes from Airflow's own setting.

    python /opt/airflow-health/job_health.py SchedulerJob
"""

import os
import sys

import psycopg2

job_type = sys.argv[1]
url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2://", "postgresql://", 1)
with psycopg2.connect(url, connect_timeout=10) as conn, conn.cursor() as cur:
    cur.execute("select count(*) from job where job_type = %s and state = 'running'"
                " and latest_heartbeat > now() - interval '60 seconds'", (job_type,))
    alive = cur.fetchone()[0]
sys.exit(0 if alive else f"no {job_type} heartbeat in the last 60 s")
