"""Reports: the most mentioned products, and visual content per channel."""

# Without filters the answer is pre-aggregated by dbt (api.api_top_products): one index scan.
TOP_PRODUCTS_ALL = """
select product_name, product_category, brand, product_type, is_brand_only, mention_count, channel_count, channels,
       median_price_birr::float8 as median_price_birr, latest_price_birr::float8 as latest_price_birr,
       last_mentioned_at, variants
from api.api_top_products
order by mention_count desc, product_name
limit %(limit)s
"""

# With filters it is aggregated from the narrow, indexed mention table. The WHERE clause is built only from
# the fixed fragments below; values go in as parameters.
TOP_PRODUCTS_FILTERED = """
with mentions as (
    select * from api.api_product_mentions where {where}
),
variants as (
    select product_key,
           jsonb_agg(jsonb_build_object('pack_size', pack_size, 'strength', strength, 'pack_count', pack_count,
                                        'mention_count', mention_count, 'median_price_birr', median_price_birr)
                     order by mention_count desc, pack_size, strength, pack_count) as variants
    from (
        select product_key, pack_size, strength, pack_count, count(distinct message_key) as mention_count,
               percentile_cont(0.5) within group (order by price_birr) as median_price_birr
        from mentions
        group by product_key, pack_size, strength, pack_count
    ) as per_variant
    group by product_key
)
select product_name,
       min(product_category) as product_category,
       min(brand) as brand,
       min(product_type) as product_type,
       bool_and(is_brand_only) as is_brand_only,
       count(distinct message_key) as mention_count,  -- a post may name two sizes of one product
       count(distinct channel_name) as channel_count,
       array_agg(distinct channel_name order by channel_name) as channels,
       percentile_cont(0.5) within group (order by price_birr)::float8 as median_price_birr,
       ((array_agg(price_birr order by posted_at desc, message_id desc)
           filter (where price_birr is not null))[1])::float8 as latest_price_birr,
       max(posted_at) as last_mentioned_at,
       min(variants.variants::text)::jsonb as variants
from mentions
left join variants using (product_key)
group by product_key, product_name
order by mention_count desc, product_name
limit %(limit)s
"""

# The order of both queries above, for json_agg (api.responses.items_json).
TOP_PRODUCTS_ORDER = "r.mention_count desc, r.product_name"

FILTERS = {
    "channel": "channel_name = %(channel)s",
    "since": "date_key >= %(since)s",
    "until": "date_key <= %(until)s",
}

VISUAL_CONTENT = """
select channel_name, total_posts, image_posts, image_share::float8 as image_share,
       avg_views_with_image::float8 as avg_views_with_image,
       avg_views_without_image::float8 as avg_views_without_image,
       categories
from api.api_visual_content
order by channel_name
"""

# The mentions of one product, newest first, each with the text it was read from: why a product or a price was
# counted. Served by the (product_name, posted_at) index of api.api_product_mentions.
PRODUCT_MENTIONS = """
select channel_name, message_id, posted_at, product_name, price_birr::float8 as price_birr, is_price_on_request,
       pack_size, strength, pack_count, dosage_form, matched_text, evidence
from api.api_product_mentions
where product_name = %(product)s {channel_filter}
order by posted_at desc, message_id desc, item_index
limit %(limit)s
"""
PRODUCT_MENTIONS_ORDER = "r.posted_at desc, r.message_id desc"
