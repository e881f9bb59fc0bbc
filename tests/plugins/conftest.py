"""The plugins' tests: a private, empty AIRFLOW_HOME before Airflow is imported (no metadata DB), and
airflow_token, a token as Airflow's login issues it."""

from tests.support.airflow_support import airflow_token, use_private_airflow_home  # noqa: F401  (a fixture, found by name)

use_private_airflow_home()
