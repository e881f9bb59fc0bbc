"""Airflow reads AIRFLOW_HOME when first imported: a private, empty one (these tests need no metadata DB)."""

from tests.support.airflow_support import use_private_airflow_home

use_private_airflow_home()
