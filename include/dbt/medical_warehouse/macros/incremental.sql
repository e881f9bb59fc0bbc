{#- The newest source change an incremental model has already processed, less the project's lookback
    (var incremental_lookback), as a timestamptz literal: rows changed after it are (re)processed on this run.
    It is read once, when the model is compiled (before its pre-hooks run), so a pre-hook that deletes rows
    of the window cannot move the window itself. Call it only inside `{% if is_incremental() %}`. -#}
{% macro incremental_watermark(column='source_updated_at') -%}
    {#- A table built before the model carried the column (a table materialization turned incremental): every
        row is reprocessed once, and on_schema_change adds the column. -#}
    {%- set has_column = execute and (adapter.get_columns_in_relation(this) | selectattr('name', 'equalto',
                                                                                       column) | list) -%}
    {%- if execute and not has_column -%}
        '-infinity'::timestamptz
    {%- elif execute -%}
        {%- set query -%}
            select (coalesce(max({{ column }}), '-infinity'::timestamptz)
                    - interval '{{ var("incremental_lookback") }}')::text
            from {{ this }}
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- An index for a post-hook, created once per table: on the first build and after a full refresh, never again
    on incremental runs. `definition` is what follows `on <table> using`, e.g. "gin (document) where
    age_tier = 0"; `like` matches PostgreSQL's own rendering of it in pg_indexes (e.g. "%gin (document) WHERE
    (age_tier = 0)"), so an index of an earlier build under another name counts too. The name carries the
    run's start time because a full refresh builds a new table while the old one (and its index's name) still
    exists. -#}
{% macro create_index_once(definition, suffix, like) -%}
    {%- set index_name = this.identifier ~ '_' ~ suffix ~ '_' ~ run_started_at.strftime('%Y%m%d%H%M%S') -%}
    do $$
    begin
        if not exists (
            select 1 from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
              and indexdef like '{{ like }}'
        ) then
            create index "{{ index_name }}" on {{ this }} using {{ definition }};
        end if;
    end
    $$
{%- endmacro %}

{#- The search tier of a post (api_message_search): 0 for the newest 30 days, 1 for the year before, 2 older,
    counted back from the newest post of all. -#}
{% macro search_age_tier(posted_at, newest_posted_at) -%}
    case
        when {{ posted_at }} >= {{ newest_posted_at }} - interval '30 days' then 0
        when {{ posted_at }} >= {{ newest_posted_at }} - interval '365 days' then 1
        else 2
    end
{%- endmacro %}

{#- A pre-hook of the incremental models keyed by message: drop the rows of every message changed since the
    model's watermark, so the run's insert replaces them (a message edited to say less loses the rest). The
    keys are gathered first and looked up by index (see message_key_in).
    from_staging: read the changes from stg_telegram_messages instead of fct_messages, for a model that reads
    the posts from staging itself (int_post_segments): it need not wait for fct_messages, and its delete and
    insert see the same rows. -#}
{% macro delete_changed_messages(from_staging=false) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where message_key = any(array(
        {%- if from_staging %}
        select {{ message_key('channel_name', 'message_id') }} from {{ ref('stg_telegram_messages') }}
        where updated_at > {{ incremental_watermark() }}
        {%- else %}
        select message_key from {{ ref('fct_messages') }}
        where source_updated_at > {{ incremental_watermark() }}
        {%- endif %}
    ))
    {%- endif -%}
{%- endmacro %}

{#- `message_key` among the messages of `relation` (a CTE of the changed messages' rows). On an incremental run
    the keys are gathered first and looked up by index (`= any(array(...))`), whatever the planner expects and
    with nested loops off: a semi-join (`in (select ...)`) would read the whole table, whose size grows with
    every post while the changes do not. On a full build every message is in it: a semi-join. -#}
{% macro message_key_in(relation) -%}
    {%- if is_incremental() -%}
    message_key = any(array(select message_key from {{ relation }}))
    {%- else -%}
    message_key in (select message_key from {{ relation }})
    {%- endif -%}
{%- endmacro %}

{#- A pre-hook of the incremental models keyed by channel and day (the daily rollups): drop every day of a
    channel in which a message changed since the model's watermark, so the run's insert rebuilds those days
    whole. -#}
{% macro delete_changed_days() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where (channel_name, date_key) in (
        select channel_name, date_key from {{ ref('fct_messages') }}
        where source_updated_at > {{ incremental_watermark() }}
    )
    {%- endif -%}
{%- endmacro %}

{#- The mentions (api_product_mentions) of the channel-days an incremental daily rollup (re)builds on this run,
    each with its day's newest source change (day_updated_at, the rollup's watermark): every day on a full
    build, the days of messages changed since the watermark on an incremental run. -#}
{% macro mentions_of_changed_days() -%}
    with changed_days as (
        select channel_name, date_key, max(source_updated_at) as day_updated_at
        from {{ ref('fct_messages') }}
        {% if is_incremental() -%}
        where (channel_name, date_key) in (
            select channel_name, date_key from {{ ref('fct_messages') }}
            where source_updated_at > {{ incremental_watermark() }}
        )
        {% endif -%}
        group by channel_name, date_key
    )
    select mentions.*, changed_days.day_updated_at
    from {{ ref('api_product_mentions') }} as mentions
    inner join changed_days
        on mentions.channel_name = changed_days.channel_name
        and mentions.date_key = changed_days.date_key
{%- endmacro %}

{#- The days (of every channel) in which a message changed since the model's watermark: what the rollups over
    every channel rebuild. Call it only inside `{% if is_incremental() %}`. -#}
{% macro changed_dates() -%}
    select date_key from {{ ref('fct_messages') }} where source_updated_at > {{ incremental_watermark() }}
{%- endmacro %}

{#- A pre-hook of the rollups over every channel: drop every day in which a message changed, to rebuild it. -#}
{% macro delete_changed_dates() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where date_key in ({{ changed_dates() }})
    {%- endif -%}
{%- endmacro %}
