# Source this file for a local Airflow of the project, without Docker:
#     source scripts/airflow_env.sh
#     airflow standalone                 # UI at http://localhost:8080 (login printed at start)
# AIRFLOW_HOME is ./.airflow (SQLite metadata, the same one `python -m medical_telegram.orchestration.run_dag`
# and `make run` use), with the project's dags/ and plugins/. The warehouse connection is the configured one
# (AIRFLOW_CONN_WAREHOUSE_DB / WAREHOUSE_DSN), else the embedded warehouse, started here if needed.
_medtel_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export PATH="$_medtel_root/.venv/bin:$PATH"
export MEDTEL_PROJECT_DIR="$_medtel_root"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$_medtel_root/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$_medtel_root/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$_medtel_root/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
export DATA_LAKE_DIR="${DATA_LAKE_DIR:-$_medtel_root/data}"
export WAREHOUSE_EMBEDDED_DIR="${WAREHOUSE_EMBEDDED_DIR:-$_medtel_root/.warehouse}"
if [[ -z "${AIRFLOW_CONN_WAREHOUSE_DB:-}" ]]; then
    AIRFLOW_CONN_WAREHOUSE_DB=$("$_medtel_root/.venv/bin/python" -c \
        "from medical_telegram import warehouse; from medical_telegram.orchestration.run_dag import with_password; print(with_password(warehouse.warehouse_dsn()))") \
        && export AIRFLOW_CONN_WAREHOUSE_DB
fi
mkdir -p "$AIRFLOW_HOME"
unset _medtel_root
