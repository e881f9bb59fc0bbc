-- What the Pipeline monitor (plugins/pipeline_monitor_plugin.py) charts beside health_checks and api_metrics:
-- each checkpoint's quality score over time, and every alert that was sent (also the memory that keeps a
-- freshness alert from repeating every 15 minutes for the same silence).
create table if not exists monitoring.quality_results (
    result_id          bigserial        primary key,
    checked_at         timestamptz      not null default now(),
    checkpoint         text             not null,
    evaluated          integer          not null,
    successful         integer          not null,
    score              double precision not null,
    success            boolean          not null,
    critical_failures  integer          not null default 0,
    warnings           integer          not null default 0,
    dag_run_id         text
);
create index if not exists quality_results_checkpoint_time_idx
    on monitoring.quality_results (checkpoint, checked_at desc);

create table if not exists monitoring.alerts (
    alert_id     bigserial   primary key,
    sent_at      timestamptz not null default now(),
    kind         text        not null check (kind in ('task_failed', 'channel_stale')),
    subject      text        not null,
    detail       text,
    -- where it went: log always; webhook and email when configured and delivered
    delivered    text[]      not null default '{}',
    -- one alert per key: e.g. channel_stale:<channel>:<its last post>, so a silence alerts once
    dedup_key    text        unique
);
create index if not exists alerts_time_idx on monitoring.alerts (sent_at desc);
