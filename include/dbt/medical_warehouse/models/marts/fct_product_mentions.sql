-- One row per product (and size) a message mentions, with the price in birr the post gives for it. Names come
-- from three editable seeds: `product_lexicon` (specific products: "nivea body lotion" is not there, "cerave
-- moisturizing cream" is), `product_brands` and `product_types` (English and Amharic). A brand alone never
-- becomes one of its products: with a product type in the same segment it is "<Brand> <Type>" ("Nivea Body
-- Lotion"), otherwise "<Brand> (unspecified product)". Sizes and strengths are columns, not part of the name.
-- Segments and prices: see macros/product_extraction.sql. Pairing: a group is the segments from one naming a
-- product to the next one naming a product after a price; its only product gets its last price (an old price,
-- "was 1,200 birr" or "1,500 birr -> 1,200 birr", is never the last), n products with n prices pair in order,
-- anything else keeps the mentions without a price.
-- Incremental: mentions of new or changed messages are recomputed (the pre-hook first drops the old ones,
-- so a message edited to name fewer products loses the others).
{#- The pre-hooks: the plan's cost estimates are far above jit_above_cost, and JIT-compiling its many regular
    expressions takes seconds where running them takes milliseconds; its set-returning functions give the
    planner row estimates of 1 that make nested loops over thousands of hits. Both settings end with the
    model's transaction. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='mention_key',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['mention_key'], 'unique': True},
            {'columns': ['message_key']},
            {'columns': ['product_key']},
            {'columns': ['source_updated_at']},
        ],
        pre_hook=[
            "set local jit = off",
            "set local enable_nestloop = off",
            "{{ delete_changed_messages() }}"],
    )
}}

with

messages as (

    select * from {{ ref('fct_messages') }}
    {% if is_incremental() %}
    where source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

lexicon as (

    select * from {{ ref('product_lexicon') }}

),

brands as (

    select * from {{ ref('product_brands') }}

),

product_types as (

    select * from {{ ref('product_types') }}

),

-- Every name the matcher looks for. Materialized: otherwise PostgreSQL inlines it and normalises every alias
-- again for every post.
names as materialized (

    select
        {{ normalise_product_text('alias') }} as alias,
        'product' as name_kind,
        product_name as name,
        product_category,
        nullif(brand, '') as brand,
        nullif(product_type, '') as product_type,
        false as names_product
    from lexicon

    union all

    select {{ normalise_product_text('alias') }}, 'brand', brand, product_category, brand, null, false
    from brands

    union all

    select {{ normalise_product_text('alias') }}, 'type', product_type, nullif(product_category, ''), null,
        product_type, names_product
    from product_types

),

-- Materialized: the segmented text is read twice below and its patterns are not cheap.
segmented as materialized (

    select
        message_key,
        message_id,
        channel_key,
        channel_name,
        date_key,
        posted_at,
        source_updated_at,
        {{ segmented_text('message_text') }} as segmented_text

    from messages
    where message_text <> ''

),

prepared as (

    select
        *,
        {{ normalise_product_text('segmented_text') }} as product_text
    from segmented

),

segments as (

    select
        prepared.message_key,
        segment.segment_index,
        segment.segment_text
    from prepared
    cross join lateral regexp_split_to_table(prepared.segmented_text, E'\n')
        with ordinality as segment (segment_text, segment_index)
    where segment.segment_text ~ '[0-9]'

),

-- Where each alias occurs in each post: strpos() over every (post, alias) pair is several times cheaper than
-- one regular expression of all aliases, whose automaton PostgreSQL rebuilds for every post; only the posts
-- holding an alias are then cut at it to find its further occurrences.
alias_found as (

    select
        prepared.message_key,
        prepared.product_text,
        names.*
    from prepared
    cross join names
    where strpos(prepared.product_text, names.alias) > 0

),

occurrences as (

    select
        alias_found.*,
        sum(length(piece.text)) over occurrence_window
            + (piece.piece_index - 1) * length(alias_found.alias) + 1 as hit_position
    from alias_found
    cross join lateral unnest(string_to_array(alias_found.product_text, alias_found.alias))
        with ordinality as piece (text, piece_index)
    window occurrence_window as (
        partition by alias_found.message_key, alias_found.alias, alias_found.name_kind, alias_found.name
        order by piece.piece_index
    )

),

alias_hits as (

    select
        message_key,
        name_kind,
        name,
        product_category,
        brand,
        product_type,
        names_product,
        hit_position,
        hit_position + length(alias) as hit_end,
        -- the segment: lines before the hit, plus one
        hit_position - length(replace(left(product_text, hit_position::integer), E'\n', '')) + 1 as segment_index

    from occurrences
    where hit_position <= length(product_text)
      -- a whole word or phrase
      and substr(product_text, hit_position::integer - 1, 1) !~ '[a-z0-9]'
      and substr(product_text, (hit_position + length(alias))::integer, 1) !~ '[a-z0-9]'

),

-- A name inside a longer one found at the same place ("zinc" in "calcium d3+zinc", the brand "neutrogena" in the
-- product "neutrogena acne wash", the type "lotion" in "body lotion") does not count.
hits as (

    select * from alias_hits
    where not exists (
        select 1 from alias_hits as longer
        where longer.message_key = alias_hits.message_key
          and longer.hit_position <= alias_hits.hit_position
          and longer.hit_end >= alias_hits.hit_end
          and longer.hit_end - longer.hit_position > alias_hits.hit_end - alias_hits.hit_position
    )

),

prices as (

    select
        segments.message_key,
        segments.segment_index,
        price.position as price_position,
        price.found[1] is not null or price.found[8] is not null as is_old_price,
        {{ price_amount('price.found') }} as price_birr

    from segments
    cross join lateral regexp_matches(segments.segment_text, {{ price_pattern() }}, 'g')
        with ordinality as price (found, position)
    -- the full pattern only where a currency or a price word is (most lines of a post have neither)
    where segments.segment_text ~ 'birr|etb|ብር|br|price|ዋጋ|cost'

),

valid_prices as (

    select * from prices
    where price_birr is not null

),

sizes as (

    select
        message_key,
        segment_index,
        {{ pack_size('segment_text') }} as pack_size,
        {{ strength('segment_text') }} as strength,
        {{ pack_count('segment_text') }} as pack_count
    from segments

),

-- What each segment names, for the rules below (joins, not correlated subqueries: posts are many).
segment_names as (

    select
        message_key,
        segment_index,
        bool_or(name_kind = 'brand') as has_brand,
        bool_or(name_kind = 'type' and names_product) as has_naming_type,
        (array_agg(name order by hit_position) filter (where name_kind = 'brand'))[1] as first_brand
    from hits
    group by message_key, segment_index

),

-- What stands for a product: a lexicon product, or a brand that no brandless lexicon product of its segment
-- takes as its own ("Nature Made fish oil" is fish oil by Nature Made). A brandless product is only an
-- ingredient where its segment also names a brand and a type that names a product ("Garnier vitamin C serum"
-- is Garnier Serum).
product_hits as (

    select
        hits.*,
        coalesce(hits.brand, segment_names.first_brand) as segment_brand
    from hits
    inner join segment_names
        on hits.message_key = segment_names.message_key and hits.segment_index = segment_names.segment_index
    where hits.name_kind = 'product'
      and not (hits.brand is null and segment_names.has_brand and segment_names.has_naming_type)

),

item_hits as (

    select
        message_key,
        segment_index,
        hit_position,
        name_kind,
        name,
        product_category,
        segment_brand as brand,
        product_type
    from product_hits

    union all

    select
        message_key,
        segment_index,
        hit_position,
        name_kind,
        name,
        product_category,
        brand,
        product_type
    from hits
    where name_kind = 'brand'
      and not exists (
          select 1 from product_hits
          where product_hits.message_key = hits.message_key
            and product_hits.segment_index = hits.segment_index
            and (product_hits.brand is null or product_hits.brand = hits.name)
      )

),

-- Groups of segments: a new group starts at a segment naming a product when a price came since the last one.
segment_flags as (

    select
        coalesce(items.message_key, priced.message_key) as message_key,
        coalesce(items.segment_index, priced.segment_index) as segment_index,
        items.segment_index is not null as has_item,
        priced.segment_index is not null as has_price
    from (select distinct message_key, segment_index from item_hits) as items
    full join (select distinct message_key, segment_index from valid_prices) as priced
        on items.message_key = priced.message_key and items.segment_index = priced.segment_index

),

prices_before as (

    select
        *,
        coalesce(sum(has_price::integer) over (
            partition by message_key order by segment_index rows between unbounded preceding and 1 preceding
        ), 0) as prices_before
    from segment_flags

),

item_segments as (

    select
        message_key,
        segment_index,
        prices_before > coalesce(lag(prices_before) over (
            partition by message_key order by segment_index), -1) as is_start
    from prices_before
    where has_item

),

segment_groups as (

    select
        prices_before.message_key,
        prices_before.segment_index,
        -- prices before the first product belong to the first group ("2025 sale! birr 750 / Nivea cream")
        greatest(coalesce(sum(item_segments.is_start::integer) over (
            partition by prices_before.message_key order by prices_before.segment_index), 0), 1) as group_index
    from prices_before
    left join item_segments
        on prices_before.message_key = item_segments.message_key
        and prices_before.segment_index = item_segments.segment_index

),

-- A brand names a product when a product type that names products ("lotion", "ሳሙና", not "tablets") is in its
-- segment, or else anywhere in its group: the nearest after it, else the nearest before it.
type_hits as (

    select hits.*, segment_groups.group_index
    from hits
    inner join segment_groups
        on hits.message_key = segment_groups.message_key and hits.segment_index = segment_groups.segment_index
    where hits.name_kind = 'type'

),

grouped_items as (

    select
        item_hits.*,
        segment_groups.group_index,
        row_number() over (order by item_hits.message_key, item_hits.hit_position, item_hits.name) as item_id
    from item_hits
    inner join segment_groups
        on item_hits.message_key = segment_groups.message_key
        and item_hits.segment_index = segment_groups.segment_index

),

naming_types as (

    select distinct on (grouped_items.item_id)
        grouped_items.item_id,
        type_hits.name,
        type_hits.product_category
    from grouped_items
    inner join type_hits
        on grouped_items.message_key = type_hits.message_key
        and grouped_items.group_index = type_hits.group_index
    where grouped_items.name_kind = 'brand'
      and type_hits.names_product
    order by grouped_items.item_id,
        type_hits.segment_index <> grouped_items.segment_index,
        type_hits.hit_position < grouped_items.hit_position,
        abs(type_hits.hit_position - grouped_items.hit_position)

),

segment_types as (

    select distinct on (grouped_items.item_id)
        grouped_items.item_id,
        type_hits.name
    from grouped_items
    inner join type_hits
        on grouped_items.message_key = type_hits.message_key
        and grouped_items.segment_index = type_hits.segment_index
    order by grouped_items.item_id, abs(type_hits.hit_position - grouped_items.hit_position)

),

items as (

    select
        grouped_items.message_key,
        grouped_items.group_index,
        grouped_items.segment_index,
        grouped_items.hit_position,
        case
            when grouped_items.name_kind = 'product' then grouped_items.name
            when naming_types.name is not null then grouped_items.name || ' ' || naming_types.name
            else grouped_items.name || ' (unspecified product)'
        end as product_name,
        case
            when grouped_items.name_kind = 'product' then grouped_items.product_category
            else coalesce(naming_types.product_category, grouped_items.product_category)
        end as product_category,
        grouped_items.brand,
        coalesce(grouped_items.product_type, naming_types.name, segment_types.name) as product_type,
        grouped_items.name_kind = 'brand' and naming_types.name is null as is_brand_only

    from grouped_items
    left join naming_types on grouped_items.item_id = naming_types.item_id
    left join segment_types on grouped_items.item_id = segment_types.item_id

),

-- Sizes from the product's segment, or, for a group's only product, from the first segment of its group with one.
group_sizes as (

    select
        segment_groups.message_key,
        segment_groups.group_index,
        (array_agg(sizes.pack_size order by sizes.segment_index) filter (where sizes.pack_size is not null))[1]
            as pack_size,
        (array_agg(sizes.strength order by sizes.segment_index) filter (where sizes.strength is not null))[1]
            as strength,
        (array_agg(sizes.pack_count order by sizes.segment_index) filter (where sizes.pack_count is not null))[1]
            as pack_count
    from segment_groups
    inner join sizes
        on segment_groups.message_key = sizes.message_key and segment_groups.segment_index = sizes.segment_index
    group by segment_groups.message_key, segment_groups.group_index

),

-- Each product and size once per group, in the order of first mention.
group_items as (

    select
        *,
        row_number() over (partition by message_key, group_index order by segment_index, hit_position)
            as item_index,
        count(*) over (partition by message_key, group_index) as item_count
    from (
        select distinct on (items.message_key, items.group_index, items.product_name, sized.pack_size,
                            sized.strength, sized.pack_count)
            items.*,
            sized.pack_size,
            sized.strength,
            sized.pack_count
        from items
        left join sizes
            on items.message_key = sizes.message_key and items.segment_index = sizes.segment_index
        left join group_sizes
            on items.message_key = group_sizes.message_key and items.group_index = group_sizes.group_index
        cross join lateral (
            select
                case when sizes.pack_size is not null or sizes.strength is not null or sizes.pack_count is not null
                    then sizes.pack_size else group_sizes.pack_size end as pack_size,
                case when sizes.pack_size is not null or sizes.strength is not null or sizes.pack_count is not null
                    then sizes.strength else group_sizes.strength end as strength,
                case when sizes.pack_size is not null or sizes.strength is not null or sizes.pack_count is not null
                    then sizes.pack_count else group_sizes.pack_count end as pack_count
        ) as sized
        order by items.message_key, items.group_index, items.product_name, sized.pack_size, sized.strength,
            sized.pack_count, items.segment_index, items.hit_position
    ) as distinct_items

),

group_prices as (

    select
        valid_prices.message_key,
        segment_groups.group_index,
        valid_prices.price_birr,
        row_number() over group_order as price_index,
        count(*) over group_all as price_count,
        row_number() over group_order = count(*) over group_all as is_last
    from valid_prices
    inner join segment_groups
        on valid_prices.message_key = segment_groups.message_key
        and valid_prices.segment_index = segment_groups.segment_index
    where not valid_prices.is_old_price
    window
        group_order as (partition by valid_prices.message_key, segment_groups.group_index
                        order by valid_prices.segment_index, valid_prices.price_position),
        group_all as (partition by valid_prices.message_key, segment_groups.group_index)

),

-- The same product and size named in two groups of a post is one mention: the first with a price.
mentions as (

    select distinct on (group_items.message_key, group_items.product_name, group_items.pack_size,
                        group_items.strength, group_items.pack_count)
        group_items.*,
        group_prices.price_birr
    from group_items
    left join group_prices
        on group_items.message_key = group_prices.message_key
        and group_items.group_index = group_prices.group_index
        and (
            (group_items.item_count = 1 and group_prices.is_last)
            or (group_items.item_count > 1 and group_items.item_count = group_prices.price_count
                and group_items.item_index = group_prices.price_index)
        )
    order by group_items.message_key, group_items.product_name, group_items.pack_size, group_items.strength,
        group_items.pack_count, group_prices.price_birr is null, group_items.group_index

),

final as (

    select
        md5(concat_ws('-', mentions.message_key, mentions.product_name, mentions.pack_size, mentions.strength,
                      mentions.pack_count)) as mention_key,
        prepared.message_key,
        prepared.message_id,
        prepared.channel_key,
        prepared.channel_name,
        prepared.date_key,
        prepared.posted_at,
        md5(mentions.product_name) as product_key,
        mentions.product_name,
        mentions.product_category,
        mentions.brand,
        mentions.product_type,
        mentions.is_brand_only,
        mentions.pack_size,
        mentions.strength,
        mentions.pack_count,
        mentions.price_birr,
        prepared.source_updated_at

    from mentions
    inner join prepared on prepared.message_key = mentions.message_key

)

select * from final
