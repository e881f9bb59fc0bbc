-- One row per item of a post: the segments (int_post_segments) of one thing offered. An item is one line
-- ("✅Omeprazole 20mg cap 💵145"), or a block: a name line, its detail lines (stock, expiry, pack) and its price
-- line. A segment that is no detail line opens a new item when it opens a list entry (a bullet) after the post
-- named a product (int_segment_product_hits) or gave a price, or when a price came since the last segment that
-- named a product, or when it names another product than that segment on a line of its own. So a list's entries are items each, a shop's post
-- ("Nivea body lotion 400ml / Price 850 birr / the shop's footer") is one item and its footer, and a header
-- before the first product ("🏩 MT PHARMA IMPORT / NEW ARRIVAL") belongs to the first item.
-- Only items that name a product are kept. evidence: the item's text exactly as posted, from its first segment
-- naming a product or giving a price to its last.
-- depends_on: {{ ref('fct_messages') }} (the pre-hook drops the rows of every message changed since the last run)
{{ config(indexes=[{'columns': ['message_key', 'item_index'], 'unique': True},
                   {'columns': ['source_updated_at']}],
          pre_hook=["{{ delete_changed_messages() }}"]) }}

with

segments as (

    select * from {{ ref('int_post_segments') }}
    {% if is_incremental() %}
    where source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

-- What the items are made of, without the words: the windows below sort every segment of every post.
structure as (

    select
        message_key, message_id, channel_key, channel_name, date_key, posted_at, segment_index, line_index,
        part_index, segment_text, is_bullet, is_detail, is_continuation, is_price_on_request, source_updated_at
    from segments

),

hits as (

    select * from {{ ref('int_segment_product_hits') }}
    where name_kind in ('product', 'brand')
    {% if is_incremental() %}
      and source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

prices as (

    select * from {{ ref('int_segment_prices') }}
    where price_birr is not null and not is_old_price
    {% if is_incremental() %}
      and source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

segment_products as (

    select message_key, segment_index, (array_agg(name order by hit_position, name))[1] as first_product
    from hits
    group by message_key, segment_index

),

priced_segments as (

    select distinct message_key, segment_index
    from prices

),

flagged as (

    select
        structure.*,
        segment_products.first_product,
        priced_segments.segment_index is not null as has_price
    from structure
    left join segment_products
        on structure.message_key = segment_products.message_key
        and structure.segment_index = segment_products.segment_index
    left join priced_segments
        on structure.message_key = priced_segments.message_key
        and structure.segment_index = priced_segments.segment_index

),

-- What came before each segment: priced segments, and the last segment that named a product (its place, line,
-- product, and the priced segments before it; counts only grow, so the largest is the last one's).
counted as (

    select
        *,
        coalesce(count(*) filter (where has_price) over before, 0) as prices_before
    from flagged
    window before as (partition by message_key order by segment_index rows between unbounded preceding and 1 preceding)

),

with_last_product as (

    select
        *,
        max(case when first_product is not null then segment_index end) over before as last_product_segment,
        max(case when first_product is not null then line_index end) over before as last_product_line,
        max(case when first_product is not null then prices_before end) over before as prices_before_last_product,
        substr(max(case when first_product is not null then lpad(segment_index::text, 12, '0') || first_product end)
               over before, 13) as last_product
    from counted
    window before as (partition by message_key order by segment_index rows between unbounded preceding and 1 preceding)

),

starts as (

    select
        *,
        (not is_detail or first_product is not null)
            and not is_continuation
            and (
                -- a list entry, once the post has named a product or given a price (a header is no entry)
                (is_bullet and (last_product_segment is not null or prices_before > 0))
                or prices_before > prices_before_last_product
                or (first_product is not null and first_product <> last_product and line_index <> last_product_line)
            ) as is_start
    from with_last_product

),

numbered as (

    select
        *,
        1 + count(*) filter (where is_start) over (partition by message_key order by segment_index) as item_index,
        first_product is not null or has_price as is_relevant
    from starts

),

-- Only items that name a product go on (headers, footers and contact lines are items too, but of nothing).
item_bounds as (

    select
        message_key,
        item_index,
        min(segment_index) filter (where is_relevant) as relevant_first,
        max(segment_index) filter (where is_relevant) as relevant_last
    from numbered
    group by message_key, item_index
    having bool_or(first_product is not null)

),

final as (

    select
        numbered.message_key,
        numbered.item_index,
        min(numbered.message_id) as message_id,
        min(numbered.channel_key) as channel_key,
        min(numbered.channel_name) as channel_name,
        min(numbered.date_key) as date_key,
        min(numbered.posted_at) as posted_at,
        min(numbered.segment_index) as first_segment_index,
        max(numbered.segment_index) as last_segment_index,
        -- the block between its first and last relevant segment, lines joined as posted
        ltrim(string_agg(case when numbered.part_index = 1 then E'\n' else '' end || numbered.segment_text, ''
                         order by numbered.segment_index)
              filter (where numbered.segment_index between item_bounds.relevant_first and item_bounds.relevant_last),
              E'\n') as evidence,
        -- the whole item, its details after the price included ("50 sachets per box"): where sizes are read
        ltrim(string_agg(case when numbered.part_index = 1 then E'\n' else '' end || numbered.segment_text, ''
                         order by numbered.segment_index), E'\n') as item_text,
        bool_or(numbered.is_price_on_request) as is_price_on_request,
        max(numbered.source_updated_at) as source_updated_at
    from numbered
    inner join item_bounds
        on numbered.message_key = item_bounds.message_key and numbered.item_index = item_bounds.item_index
    group by numbered.message_key, numbered.item_index

)

select * from final
