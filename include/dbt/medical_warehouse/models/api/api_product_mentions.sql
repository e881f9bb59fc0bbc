-- A narrow copy of the product mentions, indexed for GET /api/reports/top-products with channel / date filters,
-- and stored in (channel, day) order so that a channel's last quarter is a few adjacent pages, not one page
-- per mention.
{{ config(indexes=[
    {'columns': ['channel_name', 'date_key']},
    {'columns': ['date_key']},
]) }}

with

product_mentions as (

    select * from {{ ref('fct_product_mentions') }}

)

select
    product_key,
    product_name,
    product_category,
    message_key,
    message_id,
    channel_name,
    date_key,
    posted_at,
    price_birr
from product_mentions
order by channel_name, date_key
