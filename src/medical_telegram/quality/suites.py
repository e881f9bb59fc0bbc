"""The expectation suites, in code: one per table, grouped into one checkpoint per layer.

One owner per rule: row-level rules (keys, nulls, accepted values, ranges) are dbt tests beside the models and
sources (include/dbt/medical_warehouse/models/*/_*.yml); GX holds what dbt does not: volume, freshness,
distributions, and counts reconciled across layers (lake → raw → staging → marts). The JSON files under
include/gx are written from here on the first check run and are not committed.
"""

from __future__ import annotations

# Counts across layers, as queries that return the rows that break them. GX puts the suite's table where
# {batch} stands, as an aliased subquery: never alias {batch} again, nor write a join (GX then drops its alias).
# raw holds exactly the records the loads inserted (raw.load_log): a row that no load brought, or one lost.
_RAW_MATCHES_LOADS = """
    select table_rows, inserted from (select count(*) as table_rows from {batch}) as t,
        (select coalesce(sum(inserted), 0) as inserted from raw.load_log where target = '%s') as l
    where table_rows <> inserted
"""
# Staging is one row per raw row.
_STAGING_MATCHES_RAW = """
    select staged, loaded from (select count(*) as staged from {batch}) as s,
        (select count(*) as loaded from raw.telegram_messages) as r
    where staged <> loaded
"""
# Every message staged before the mart's newest change is in the mart (a message loaded while dbt ran is not
# a miss: the next build takes it).
_MARTS_HOLD_STAGED = """
    select s.channel_name, s.message_id from staging.stg_telegram_messages as s
    where s.updated_at <= (select max(source_updated_at) from {batch})
      and (s.channel_name, s.message_id) not in (select channel_name, message_id from {batch})
"""
# The channels' post counts add up to the messages.
_CHANNELS_COUNT_MESSAGES = """
    select counted, messages from (select sum(total_posts) as counted from {batch}) as c,
        (select count(*) as messages from marts.fct_messages) as m
    where counted <> messages
"""
# The calendar is a spine: one row per day, no gaps.
_DATES_ARE_A_SPINE = """
    select days, first_day, last_day from (select count(*) as days, min(full_date) as first_day,
                                                  max(full_date) as last_day from {batch}) as d
    where days <> last_day - first_day + 1
"""
# Every photo the detector looked at, whose post is in the marts, has its detections in the marts.
_DETECTIONS_IN_MARTS = """
    select d.channel_name, d.message_id from raw.image_detections as d
    where d.loaded_at <= (select max(source_updated_at) from {batch})
      and (d.channel_name, d.message_id) in (
          select channel_name, message_id from marts.fct_messages
          where message_key not in (select message_key from {batch}))
"""
# No hour of loads in the last week quarantined more than 5% of the records it read (the loads of one run fall
# in one hour; a run over the share also alerts: orchestration/alerts.py). The {batch} term only ties the query
# to its suite's table.
_QUARANTINED_SHARE = """
    select hour, rows_in, quarantined from (
        select date_trunc('hour', started_at) as hour, sum(rows_in) as rows_in, sum(quarantined) as quarantined
        from raw.load_log where target = '%s' and started_at > now() - interval '7 days' group by 1) as loads
    where quarantined > 0.05 * rows_in and exists (select 1 from {batch})
"""
# The newest load is at most a week old: the pipeline is still bringing data in.
_LOADED_THIS_WEEK = """
    select last_load from (select max(loaded_at) as last_load from {batch}) as t
    where last_load < now() - interval '7 days'
"""


def suites() -> dict[str, tuple[str, str, list]]:
    """suite name → (schema, table, expectations). Imported lazily: GX costs seconds to import.

    One owner per rule: row-level rules (keys, nulls, accepted values, ranges) are dbt tests beside the
    models and sources (include/dbt/medical_warehouse/models/*/_*.yml); GX holds what dbt does not: volume,
    freshness, distributions, and counts reconciled across layers (lake → raw → staging → marts).
    """
    import great_expectations.expectations as gxe

    warn = {"severity": "warning"}

    def rows(query: str, description: str, **extra):
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=query, description=description, **extra)

    return {
        "raw_telegram_messages": ("raw", "telegram_messages", [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            rows(_RAW_MATCHES_LOADS % "telegram_messages", "raw holds exactly the records the loads inserted"),
            rows(_LOADED_THIS_WEEK, "a load within the last 7 days", **warn),
            rows(_QUARANTINED_SHARE % "telegram_messages", "no hour of loads quarantined over 5%", **warn),
            gxe.ExpectColumnValuesToNotBeNull(column="views", mostly=0.5, **warn),
        ]),
        "raw_image_detections": ("raw", "image_detections", [
            rows(_RAW_MATCHES_LOADS % "image_detections", "raw holds exactly the detections the loads inserted"),
            rows(_QUARANTINED_SHARE % "image_detections", "no hour of loads quarantined over 5%", **warn),
            gxe.ExpectColumnMeanToBeBetween(column="confidence", min_value=0.2, max_value=1, **warn),
        ]),
        "stg_telegram_messages": ("staging", "stg_telegram_messages", [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            rows(_STAGING_MATCHES_RAW, "one staging row per raw row"),
        ]),
        "fct_messages": ("marts", "fct_messages", [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            rows(_MARTS_HOLD_STAGED, "every staged message is in the mart"),
            gxe.ExpectColumnValuesToNotBeNull(column="view_count", mostly=0.5, **warn),
            gxe.ExpectColumnMeanToBeBetween(column="message_length", min_value=1, **warn),
        ]),
        "dim_channels": ("marts", "dim_channels", [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            rows(_CHANNELS_COUNT_MESSAGES, "the channels' post counts add up to the messages"),
        ]),
        "dim_dates": ("marts", "dim_dates", [
            gxe.ExpectTableRowCountToBeBetween(min_value=365),
            rows(_DATES_ARE_A_SPINE, "one row per day, no gaps"),
        ]),
        "fct_image_detections": ("marts", "fct_image_detections", [
            rows(_DETECTIONS_IN_MARTS, "every detected photo of a post in the marts is in the detection mart"),
            gxe.ExpectColumnMeanToBeBetween(column="confidence_score", min_value=0.2, max_value=1, **warn),
        ]),
    }


# checkpoint → the suites it validates. Each layer's DAG runs its own; quality_checks runs them all.
CHECKPOINTS: dict[str, tuple[str, ...]] = {
    "raw_messages": ("raw_telegram_messages",),
    "staging": ("stg_telegram_messages",),
    "marts": ("fct_messages", "dim_channels", "dim_dates"),
    "detections": ("raw_image_detections", "fct_image_detections"),
}
