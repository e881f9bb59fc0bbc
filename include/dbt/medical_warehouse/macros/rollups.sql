{#- Merging daily rollup rows (api_product_days, api_product_variant_days) into coarser ones: each row's
    sorted prices unnest to one row per price (a row without prices to one null price, so its mentions still
    count once), then counts add up over the first price of each row and the prices merge, sorted. -#}
{% macro unnest_rollup_prices() -%}
    cross join lateral unnest(coalesce(prices_birr, array[null::numeric])) with ordinality as p (price, price_number)
{%- endmacro %}

{% macro merged_counts_and_prices() -%}
    (sum(mention_count) filter (where price_number = 1))::bigint as mention_count,
    array_agg(price order by price) filter (where price is not null) as prices_birr
{%- endmacro %}
