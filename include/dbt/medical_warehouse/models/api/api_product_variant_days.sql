-- Mentions per product variant (pack size, strength, pack count), channel and day: the variants of a filtered
-- GET /api/reports/top-products, summed like api_product_days (exact counts, whole prices for exact medians).
-- Incremental by day, as api_product_days.
-- depends_on: {{ ref('fct_messages') }}, {{ ref('api_product_mentions') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['product_key', 'channel_name', 'date_key']},
        {'columns': ['product_key', 'date_key']},
    ],
    pre_hook=["{{ delete_changed_days() }}"],
) }}

with

mentions as (

    {{ mentions_of_changed_days() }}

)

select
    product_key,
    pack_size,
    strength,
    pack_count,
    channel_name,
    date_key,
    count(distinct message_key) as mention_count,
    array_agg(price_birr order by price_birr) filter (where price_birr is not null) as prices_birr,
    max(day_updated_at) as source_updated_at
from mentions
group by product_key, pack_size, strength, pack_count, channel_name, date_key
order by product_key, channel_name, date_key
