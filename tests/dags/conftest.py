"""Airflow reads AIRFLOW_HOME when it is first imported: the DAG tests get a private, empty one (parsing
needs no metadata database), and never the example DAGs."""

from tests.support.airflow_support import use_private_airflow_home

use_private_airflow_home()
