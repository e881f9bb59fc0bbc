"""Watching the pipeline: health checks, freshness, the API's latency, retention, and the Pipeline monitor's
numbers and charts. Plain functions; the Airflow tasks that call them are in orchestration/monitoring_tasks.py."""
