-- A load that quarantined more than its share of records, or a scrape that gave up photos, alerts too
-- (orchestration/alerts.py: losses_alert), once per run.
alter table monitoring.alerts drop constraint if exists alerts_kind_check;
alter table monitoring.alerts add constraint alerts_kind_check
    check (kind in ('task_failed', 'channel_stale', 'data_lost'));
