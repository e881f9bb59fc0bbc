-- Monitoring: what health_check and api_service measured, kept for trends and alerting.
-- cleanup trims rows older than the retention period (MONITORING_RETENTION_DAYS, default 30).
create schema if not exists monitoring;

create table if not exists monitoring.health_checks (
    check_id     bigserial   primary key,
    checked_at   timestamptz not null default now(),
    check_name   text        not null,
    status       text        not null check (status in ('ok', 'warning', 'failed')),
    value        double precision,
    detail       text,
    dag_run_id   text
);
create index if not exists health_checks_name_time_idx on monitoring.health_checks (check_name, checked_at desc);

create table if not exists monitoring.api_metrics (
    metric_id    bigserial   primary key,
    measured_at  timestamptz not null default now(),
    endpoint     text        not null,
    status_code  integer,
    latency_ms   double precision,
    ok           boolean     not null,
    detail       text,
    dag_run_id   text
);
create index if not exists api_metrics_endpoint_time_idx on monitoring.api_metrics (endpoint, measured_at desc);
