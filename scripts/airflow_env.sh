# Source this file to make this shell's `airflow` CLI talk to the local service `make run` started:
#     source scripts/airflow_env.sh
#     airflow dags list-runs full_pipeline       airflow dags trigger data_ingestion       airflow assets list
# The same AIRFLOW_HOME (.state/airflow), metadata database (PostgreSQL, on the warehouse's server), dags/,
# plugins/, executor and warehouse connection as the services; `make stop` stops them.
# The variables come from `medtel service-env` (the one place that defines them) and are only evaluated,
# never printed: they include the stack's keys.
_medtel_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
export PATH="$_medtel_root/.venv/bin:$PATH"
export DATA_LAKE_DIR="${DATA_LAKE_DIR:-$_medtel_root/data}"
export WAREHOUSE_EMBEDDED_DIR="${WAREHOUSE_EMBEDDED_DIR:-$_medtel_root/.warehouse}"
if _medtel_env=$("$_medtel_root/.venv/bin/python" -m medical_telegram.devstack.service env); then
    eval "$_medtel_env"
else
    echo "airflow_env.sh: could not read the local service's settings (run make setup first)" >&2
fi
unset _medtel_root _medtel_env
