-- One row per channel and UTC day with at least one post. Incremental: the days that received new or changed
-- messages are recomputed whole (delete+insert on channel and day), so sums stay exact.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['channel_key', 'date_key'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['channel_key', 'date_key'], 'unique': True},
            {'columns': ['source_updated_at']},
        ],
    )
}}

with

messages as (

    select * from {{ ref('fct_messages') }}
    {% if is_incremental() %}
    where (channel_key, date_key) in (
        select channel_key, date_key from {{ ref('fct_messages') }}
        where source_updated_at > {{ incremental_watermark() }}
    )
    {% endif %}

),

final as (

    select
        channel_key,
        min(channel_name) as channel_name,
        (array_agg(channel_title order by posted_at desc) filter (where channel_title is not null))[1]
            as channel_title,
        date_key,
        to_date(date_key::text, 'YYYYMMDD') as full_date,
        count(*) as post_count,
        sum(view_count) as total_views,
        count(view_count) as viewed_post_count,
        sum(forward_count) as total_forwards,
        count(*) filter (where has_image) as image_post_count,
        max(source_updated_at) as source_updated_at

    from messages
    group by channel_key, date_key

)

select * from final
