"""Airflow reads AIRFLOW_HOME when first imported: a private, empty one (these tests need no metadata DB)."""

import os
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="mtw_airflow_home_"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
