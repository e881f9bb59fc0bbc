{#- The newest source change an incremental model has already processed, less the project's lookback
    (var incremental_lookback), as a timestamptz literal: rows changed after it are (re)processed on this run.
    It is read once, when the model is compiled (before its pre-hooks run), so a pre-hook that deletes rows
    of the window cannot move the window itself. Call it only inside `{% if is_incremental() %}`. -#}
{% macro incremental_watermark(column='source_updated_at') -%}
    {%- if execute -%}
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

{#- A full-text (GIN) index for a post-hook. Its name carries the run's start time because a full refresh
    builds a new table while the old one (and its index's name) still exists; the check on the table's own
    indexes keeps incremental runs from adding a second one. -#}
{% macro create_text_search_index(column) -%}
    {%- set index_name = this.identifier ~ '_' ~ column ~ '_fts_' ~ run_started_at.strftime('%Y%m%d%H%M%S') -%}
    do $$
    begin
        if not exists (
            select 1 from pg_indexes
            where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
              and indexdef like '%to_tsvector%{{ column }}%'
        ) then
            create index "{{ index_name }}" on {{ this }} using gin (to_tsvector('simple', {{ column }}));
        end if;
    end
    $$
{%- endmacro %}
