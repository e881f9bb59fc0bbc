-- One row per product an item of a post offers (int_post_items), with the price the item gives for it, the
-- item's text it was read from (evidence) and the words recognised as the product (matched_text). Products are
-- the names int_segment_product_hits finds: lexicon products, medical supplies, medicines by generic, brand
-- or misspelt name (a brand of a medicine is its generic: "Atrova" is Atorvastatin), and cosmetics brands with
-- their product types. A brand alone never becomes one of its products: with a product type in the same item
-- it is "<Brand> <Type>" ("Nivea Body Lotion"), otherwise "<Brand> (unspecified product)". Medicines joined by
-- "+" or "with" are one combination product ("Ferrous with folic" is Ferrous Sulfate + Folic Acid). An item's
-- only product gets the item's first price (an old price, "was 1,200 birr" or "1,000 birr ➡️ 850 birr", never
-- counts; a later one is a bundle's or a quantity's); n products with n prices pair in order; otherwise no
-- price. A price is never read from another item.
-- Incremental: mentions of new or changed messages are recomputed (the pre-hook first drops the old ones).
{#- The pre-hooks, here and in the intermediate models: JIT-compiling the many regular expressions takes seconds
    where running them takes milliseconds; no nested loops (the CTEs' row estimates, and those of the rows
    changed since the watermark, which lie beyond the statistics' histogram, are often 1: with statistics an
    incremental run took 38-57 s in nested loops, 3 s in hash joins); the windows over every segment of a post
    sort in memory, not on disk. The settings end with the model's transaction. -#}
-- depends_on: {{ ref('fct_messages') }} (the pre-hook drops the rows of every message changed since the last run)
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
            "set local work_mem = '256MB'",
            "{{ delete_changed_messages() }}"],
    )
}}

with

items as (

    select * from {{ ref('int_post_items') }}
    {% if is_incremental() %}
    where source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),



hits as (

    select * from {{ ref('int_segment_product_hits') }}
    where {{ message_key_in('items') }}

),
-- The segments that name something (their words and line kind; the rest say nothing of products).
segments as (

    select message_key, segment_index, words, is_continuation from {{ ref('int_post_segments') }}
    where {{ message_key_in('items') }}
      and (message_key, segment_index) in (select message_key, segment_index from hits)

),
-- Posts that advertise a course or a job ("Ultrasound Skill Training", "Senior pharmacist ... salary"): what they
-- name without a price is no product on offer.
not_offering as (

    select distinct message_key
    from {{ ref('int_post_segments') }}
    where is_course_or_job
      and {{ message_key_in('items') }}

),


prices as (

    select * from {{ ref('int_segment_prices') }}
    where {{ message_key_in('items') }}
      and price_birr is not null
      and not is_old_price

),

item_hits as (

    select hits.*, items.item_index
    from hits
    inner join items
        on hits.message_key = items.message_key
        and hits.segment_index between items.first_segment_index and items.last_segment_index

),

-- What each segment names, for the brand rules below.
segment_names as (

    select
        message_key,
        segment_index,
        bool_or(name_kind = 'brand') as has_brand,
        bool_or(name_kind = 'type' and names_product) as has_naming_type,
        (array_agg(name order by hit_position) filter (where name_kind = 'brand'))[1] as first_brand
    from item_hits
    group by message_key, segment_index

),

-- What stands for a product: a named product, or a brand that no brandless product of its segment takes as its
-- own ("Nature Made fish oil" is fish oil by Nature Made). A brandless product is only an ingredient where its
-- segment also names a brand and a type that names a product ("Garnier vitamin C serum" is Garnier Serum), and
-- a generic medicine or supply always is beside a brand ("Centrum multivitamin" is Centrum's).
product_hits as (

    select
        item_hits.*,
        coalesce(item_hits.brand, segment_names.first_brand) as segment_brand
    from item_hits
    inner join segment_names
        on item_hits.message_key = segment_names.message_key
        and item_hits.segment_index = segment_names.segment_index
    inner join segments
        on item_hits.message_key = segments.message_key and item_hits.segment_index = segments.segment_index
    where item_hits.name_kind = 'product'
      and not (item_hits.brand is null and segment_names.has_brand
               and (segment_names.has_naming_type or item_hits.name_source <> 'lexicon'))
      -- a product named on a line that goes on with the entry ("with Moxipil 625mg of 10, Price 190 Birr") is
      -- what the entry comes bundled with, unless the entry names none before
      and not (segments.is_continuation
               and exists (select 1 from item_hits as named
                           inner join segments as named_segments
                               on named.message_key = named_segments.message_key
                               and named.segment_index = named_segments.segment_index
                           where named.message_key = item_hits.message_key
                             and named.item_index = item_hits.item_index
                             and named.name_kind = 'product'
                             and not named_segments.is_continuation))
      -- "Normal saline 1L without IV set" offers no IV set; "RL with full and half iv set" offers Ringer's
      -- Lactate, the IV set is its accessory
      and coalesce(segments.words[item_hits.hit_position - 1], '') not in ('without', 'no', 'out')
      and not (item_hits.name_source = 'supply'
               and 'with' = any (segments.words[2:item_hits.hit_position - 1])
               and exists (select 1 from item_hits as named
                           where named.message_key = item_hits.message_key
                             and named.segment_index = item_hits.segment_index
                             and named.name_kind = 'product'
                             and named.hit_end < array_position(segments.words, 'with')))

),

-- Medicines joined by "+", "with", "&" or "in" in one segment ("Ferrous sulfate 150mg + Folic Acid 0.5 mg",
-- "Dextrose in Normal saline") are one product: each hit continues the combination of the one before when only
-- the joining word stands between.
joined as (

    select
        product_hits.*,
        product_hits.product_category in ('Medicines', 'Vitamins & Supplements') as is_medicine,
        lag(product_hits.hit_end) over segment_order as previous_end,
        lag(product_hits.product_category in ('Medicines', 'Vitamins & Supplements')) over segment_order
            as previous_is_medicine
    from product_hits
    window segment_order as (partition by product_hits.message_key, product_hits.segment_index
                             order by product_hits.hit_position)

),

combined as (

    select
        joined.*,
        sum(case
                when joined.is_medicine and joined.previous_is_medicine
                     and array_to_string(segments.words[joined.previous_end + 1:joined.hit_position - 1], ' ')
                         in ('+', 'with', 'in', 'and +')
                then 0 else 1 end) over (partition by joined.message_key, joined.segment_index
                                         order by joined.hit_position) as combination_index
    from joined
    inner join segments
        on joined.message_key = segments.message_key and joined.segment_index = segments.segment_index

),

products as (

    select
        message_key,
        item_index,
        segment_index,
        min(hit_position) as hit_position,
        case when count(distinct name) > 1
            then string_agg(distinct name, ' + ')
            else min(name) end as product_name,
        min(product_category) as product_category,
        min(segment_brand) as brand,
        min(product_type) as product_type,
        false as is_brand_only,
        string_agg(matched_words, ' ' order by hit_position) as matched_words,
        min(match_method) as match_method
    from combined
    group by message_key, item_index, segment_index, combination_index

),

brand_hits as (

    select item_hits.*
    from item_hits
    where item_hits.name_kind = 'brand'
      and not exists (
          select 1 from product_hits
          where product_hits.message_key = item_hits.message_key
            and product_hits.segment_index = item_hits.segment_index
            and (product_hits.brand is null or product_hits.brand = item_hits.name)
      )

),

type_hits as (

    select * from item_hits
    where name_kind = 'type'

),

-- A brand names a product when a product type that names products ("lotion", "ሳሙና", not "tablets") is in its
-- segment, or else anywhere in its item: the nearest after it, else the nearest before it.
naming_types as (

    select distinct on (brand_hits.message_key, brand_hits.segment_index, brand_hits.hit_position)
        brand_hits.message_key,
        brand_hits.segment_index,
        brand_hits.hit_position,
        type_hits.name,
        type_hits.product_category
    from brand_hits
    inner join type_hits
        on brand_hits.message_key = type_hits.message_key
        and brand_hits.item_index = type_hits.item_index
    where type_hits.names_product
    order by brand_hits.message_key, brand_hits.segment_index, brand_hits.hit_position,
        type_hits.segment_index <> brand_hits.segment_index,
        type_hits.hit_position < brand_hits.hit_position,
        abs(type_hits.hit_position - brand_hits.hit_position)

),

brand_products as (

    select
        brand_hits.message_key,
        brand_hits.item_index,
        brand_hits.segment_index,
        brand_hits.hit_position,
        case when naming_types.name is not null then brand_hits.name || ' ' || naming_types.name
            else brand_hits.name || ' (unspecified product)' end as product_name,
        coalesce(naming_types.product_category, brand_hits.product_category) as product_category,
        brand_hits.brand,
        naming_types.name as product_type,
        naming_types.name is null as is_brand_only,
        brand_hits.matched_words,
        brand_hits.match_method
    from brand_hits
    left join naming_types
        on brand_hits.message_key = naming_types.message_key
        and brand_hits.segment_index = naming_types.segment_index
        and brand_hits.hit_position = naming_types.hit_position

),

-- The type of a product that has none of its own: the nearest type in its segment ("Paracetamol 500mg 100
-- tablets" is Tablets); its dosage form: the first form of its item.
segment_types as (

    select distinct on (products.message_key, products.segment_index, products.hit_position)
        products.message_key,
        products.segment_index,
        products.hit_position,
        type_hits.name
    from products
    inner join type_hits
        on products.message_key = type_hits.message_key
        and products.segment_index = type_hits.segment_index
    order by products.message_key, products.segment_index, products.hit_position,
        abs(type_hits.hit_position - products.hit_position)

),

item_forms as (

    select distinct on (message_key, item_index) message_key, item_index, name as dosage_form
    from item_hits
    where name_kind = 'form'
    order by message_key, item_index, segment_index, hit_position

),

all_products as (

    select
        products.message_key, products.item_index, products.segment_index, products.hit_position,
        products.product_name, products.product_category, products.brand,
        coalesce(products.product_type, segment_types.name) as product_type,
        products.is_brand_only, products.matched_words, products.match_method
    from products
    left join segment_types
        on products.message_key = segment_types.message_key
        and products.segment_index = segment_types.segment_index
        and products.hit_position = segment_types.hit_position

    union all

    select * from brand_products

),

-- Each product once per item, in the order it is first named.
item_products as (

    select
        *,
        row_number() over (partition by message_key, item_index order by segment_index, hit_position)
            as product_index,
        count(*) over (partition by message_key, item_index) as product_count
    from (
        select distinct on (message_key, item_index, product_name) *
        from all_products
        order by message_key, item_index, product_name, segment_index, hit_position
    ) as distinct_products

),

item_prices as (

    select
        prices.message_key,
        items.item_index,
        prices.price_birr,
        row_number() over item_order as price_index,
        count(*) over item_all as price_count
    from prices
    inner join items
        on prices.message_key = items.message_key
        and prices.segment_index between items.first_segment_index and items.last_segment_index
    window
        item_order as (partition by prices.message_key, items.item_index order by prices.segment_index,
                       prices.price_position),
        item_all as (partition by prices.message_key, items.item_index)

),

mentions as (

    select
        item_products.*,
        item_prices.price_birr
    from item_products
    left join item_prices
        on item_products.message_key = item_prices.message_key
        and item_products.item_index = item_prices.item_index
        and (
            (item_products.product_count = 1 and item_prices.price_index = 1)
            or (item_products.product_count > 1 and item_products.product_count = item_prices.price_count
                and item_products.product_index = item_prices.price_index)
        )

),

offered as (

    select mentions.*, items.evidence, items.item_text
    from mentions
    inner join items on mentions.message_key = items.message_key and mentions.item_index = items.item_index
    where mentions.price_birr is not null
       or not exists (select 1 from not_offering where not_offering.message_key = mentions.message_key)

),

-- Sizes and matched words read once per distinct item text (items repeat across posts).
item_sizes as materialized (

    select
        item_text,
        {{ pack_size('lower_text') }} as pack_size,
        {{ strength('lower_text') }} as strength,
        {{ pack_count('lower_text') }} as pack_count
    from (select distinct item_text, {{ plain_lower('item_text') }} as lower_text from offered) as texts

),

matched as materialized (

    select evidence, matched_words, {{ matched_text('evidence', 'matched_words') }} as matched_text
    from (select distinct evidence, matched_words from offered) as words

),

final as (

    select
        md5(concat_ws('-', offered.message_key, offered.item_index, offered.product_name)) as mention_key,
        items.message_key,
        items.message_id,
        items.channel_key,
        items.channel_name,
        items.date_key,
        items.posted_at,
        items.item_index,
        md5(offered.product_name) as product_key,
        offered.product_name,
        offered.product_category,
        offered.brand,
        offered.product_type,
        item_forms.dosage_form,
        offered.is_brand_only,
        item_sizes.pack_size,
        item_sizes.strength,
        item_sizes.pack_count,
        offered.price_birr,
        offered.price_birr is null and items.is_price_on_request as is_price_on_request,
        offered.evidence,
        matched.matched_text,
        offered.match_method,
        items.source_updated_at

    from offered
    inner join items on offered.message_key = items.message_key and offered.item_index = items.item_index
    inner join item_sizes on item_sizes.item_text = offered.item_text
    inner join matched on matched.evidence = offered.evidence and matched.matched_words = offered.matched_words
    left join item_forms on offered.message_key = item_forms.message_key and offered.item_index = item_forms.item_index

)

select * from final
