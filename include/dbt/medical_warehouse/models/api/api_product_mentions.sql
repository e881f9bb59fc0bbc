-- A narrow copy of the product mentions, indexed for GET /api/reports/top-products with channel / date filters.
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
