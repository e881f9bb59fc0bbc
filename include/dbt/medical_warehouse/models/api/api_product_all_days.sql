-- api_product_days over every channel: per product and day, for top-products filtered by dates alone, which
-- then sums one row per product and day instead of one per channel too (50 times fewer at 50 channels). Built
-- from api_product_days: counts add up, prices merge (sorted), the latest price is the day's newest.
-- Incremental by day, as api_product_days (every channel's rows of a changed day are rebuilt).
-- depends_on: {{ ref('fct_messages') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['date_key']}],
    pre_hook=["{{ delete_changed_dates() }}"],
) }}

with

channel_days as (

    select * from {{ ref('api_product_days') }}
    {% if is_incremental() %}
    where date_key in ({{ changed_dates() }})
    {% endif %}

),

totals as (

    select
        product_key,
        date_key,
        min(product_name) as product_name,
        min(product_category) as product_category,
        min(brand) as brand,
        min(product_type) as product_type,
        bool_and(is_brand_only) as is_brand_only,
        {{ merged_counts_and_prices() }},
        max(last_mentioned_at) as last_mentioned_at,
        max(source_updated_at) as source_updated_at
    from channel_days
    {{ unnest_rollup_prices() }}
    group by product_key, date_key

),

latest_prices as (

    select distinct on (product_key, date_key)
        product_key,
        date_key,
        latest_price_birr,
        latest_price_posted_at,
        latest_price_message_id
    from channel_days
    where latest_price_birr is not null
    order by product_key, date_key, latest_price_posted_at desc, latest_price_message_id desc

)

select
    totals.product_key,
    totals.date_key,
    totals.product_name,
    totals.product_category,
    totals.brand,
    totals.product_type,
    totals.is_brand_only,
    totals.mention_count,
    totals.prices_birr,
    totals.last_mentioned_at,
    latest_prices.latest_price_birr,
    latest_prices.latest_price_posted_at,
    latest_prices.latest_price_message_id,
    totals.source_updated_at
from totals
left join latest_prices
    on totals.product_key = latest_prices.product_key
    and totals.date_key = latest_prices.date_key
order by totals.date_key
