-- First start of the compose PostgreSQL: the warehouse database beside Airflow's metadata database.
-- (Runs once, from /docker-entrypoint-initdb.d, as the superuser of POSTGRES_USER.)
create role warehouse login password 'warehouse';
create database warehouse owner warehouse;
