-- Mentions per product, channel and day: what GET /api/reports/top-products sums when it is filtered by a
-- channel or a date range, instead of re-aggregating every mention. Counts add up exactly over any set of days
-- and channels (a post has one channel and one day); each day keeps its prices whole, sorted, so the median of
-- any window stays exact; the latest price keeps its post's time and id, so the newest over a window is exact.
-- Incremental by day: the days of new and changed messages are rebuilt whole (the pre-hook drops them first).
-- depends_on: {{ ref('fct_messages') }}, {{ ref('api_product_mentions') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['channel_name', 'date_key']},
        {'columns': ['date_key']},
        {'columns': ['product_key', 'date_key', 'channel_name']},
    ],
    pre_hook=["{{ delete_changed_days() }}"],
) }}

with

mentions as (

    {{ mentions_of_changed_days() }}

)

select
    product_key,
    channel_name,
    date_key,
    min(product_name) as product_name,
    min(product_category) as product_category,
    min(brand) as brand,
    min(product_type) as product_type,
    bool_and(is_brand_only) as is_brand_only,
    count(distinct message_key) as mention_count,
    array_agg(price_birr order by price_birr) filter (where price_birr is not null) as prices_birr,
    max(posted_at) as last_mentioned_at,
    (array_agg(price_birr order by posted_at desc, message_id desc, item_index)
        filter (where price_birr is not null))[1] as latest_price_birr,
    max(posted_at) filter (where price_birr is not null) as latest_price_posted_at,
    (array_agg(message_id order by posted_at desc, message_id desc, item_index)
        filter (where price_birr is not null))[1] as latest_price_message_id,
    max(day_updated_at) as source_updated_at
from mentions
group by product_key, channel_name, date_key
order by channel_name, date_key
