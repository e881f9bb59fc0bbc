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

),

products as (

    select * from {{ ref('dim_products') }}

)

select
    product_mentions.product_key,
    product_mentions.product_name,
    product_mentions.product_category,
    products.brand,
    products.product_type,
    product_mentions.is_brand_only,
    product_mentions.message_key,
    product_mentions.message_id,
    product_mentions.channel_name,
    product_mentions.date_key,
    product_mentions.posted_at,
    product_mentions.pack_size,
    product_mentions.strength,
    product_mentions.pack_count,
    product_mentions.price_birr
from product_mentions
left join products on product_mentions.product_key = products.product_key
order by product_mentions.channel_name, product_mentions.date_key
