"""Airflow reads AIRFLOW_HOME when it is first imported: the DAG tests get a private, empty one (parsing
needs no metadata database), and never the example DAGs."""

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mtw_airflow_home_"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
