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

select
    product_key,
    pack_size,
    strength,
    pack_count,
    date_key,
    {{ merged_counts_and_prices() }},
    max(source_updated_at) as source_updated_at
from channel_days
{{ unnest_rollup_prices() }}
group by product_key, pack_size, strength, pack_count, date_key
order by product_key, date_key
