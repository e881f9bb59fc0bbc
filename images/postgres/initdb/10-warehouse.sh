# First start of the compose PostgreSQL (sourced from /docker-entrypoint-initdb.d by the entrypoint of our
# image or of the official one, as the superuser POSTGRES_USER, which nothing else uses): Airflow's metadata
# database and its owner `airflow`, the warehouse database and its owner `warehouse`, and the analytical API's
# read-only role `medtel_api`; none of them a superuser nor able to create roles or databases. Made here
# because the owner has no CREATEROLE (the migrations then grant it the marts). The passwords come from the
# environment through psql's \getenv: never a command line, never this file.
: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is required (make env writes it to .env)}"
: "${WAREHOUSE_PASSWORD:?WAREHOUSE_PASSWORD is required (make env writes it to .env)}"
: "${API_DB_PASSWORD:?API_DB_PASSWORD is required (make env writes it to .env)}"
psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv airflow_password AIRFLOW_DB_PASSWORD
\getenv warehouse_password WAREHOUSE_PASSWORD
\getenv api_password API_DB_PASSWORD
create role airflow login password :'airflow_password';
create database airflow owner airflow;
revoke all on database airflow from public;
create role warehouse login password :'warehouse_password';
create role medtel_api login password :'api_password';
create database warehouse owner warehouse;
revoke all on database warehouse from public;
grant connect on database warehouse to medtel_api;
SQL
