-- api_product_variant_days over every channel: per product variant and day, for the variants of top-products
-- filtered by dates alone. Incremental by day, as api_product_all_days.
-- depends_on: {{ ref('fct_messages') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['product_key', 'date_key']}],
    pre_hook=["{{ delete_changed_dates() }}"],
) }}

with

channel_days as (

    select * from {{ ref('api_product_variant_days') }}
    {% if is_incremental() %}
    where date_key in ({{ changed_dates() }})
    {% endif %}

)

-- A day without prices still counts its mentions: it unnests to one null price.
select
    product_key,
    pack_size,
    strength,
    pack_count,
    date_key,
    (sum(mention_count) filter (where price_number = 1))::bigint as mention_count,
    array_agg(price order by price) filter (where price is not null) as prices_birr,
    max(source_updated_at) as source_updated_at
from channel_days
cross join lateral unnest(coalesce(prices_birr, array[null::numeric])) with ordinality as p (price, price_number)
group by product_key, pack_size, strength, pack_count, date_key
order by product_key, date_key
