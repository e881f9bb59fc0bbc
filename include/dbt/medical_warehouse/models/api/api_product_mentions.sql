-- A copy of the product mentions, indexed for GET /api/reports/top-products with channel / date filters and
-- GET /api/reports/product-mentions (each mention with the text it was read from), and stored in (channel, day)
-- order so that a channel's last quarter is a few adjacent pages, not one page per mention.
-- Incremental: the mentions of new and changed messages are replaced (the pre-hook first drops the old ones, so
-- a message edited to name fewer products loses the others), as in fct_product_mentions.
-- depends_on: {{ ref('fct_messages') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['channel_name', 'date_key']},
        {'columns': ['date_key']},
        {'columns': ['message_key']},
        {'columns': ['product_name', 'posted_at']},
        {'columns': ['source_updated_at']},
    ],
    pre_hook=["{{ delete_changed_messages() }}"],
) }}

with

product_mentions as (

    select * from {{ ref('fct_product_mentions') }}
    {% if is_incremental() %}
    where source_updated_at > {{ incremental_watermark() }}
    {% endif %}

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
    product_mentions.price_birr,
    product_mentions.item_index,
    product_mentions.dosage_form,
    product_mentions.is_price_on_request,
    product_mentions.matched_text,
    product_mentions.evidence,
    product_mentions.source_updated_at
from product_mentions
left join products on product_mentions.product_key = products.product_key
order by product_mentions.channel_name, product_mentions.date_key
