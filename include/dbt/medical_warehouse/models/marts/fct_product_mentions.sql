-- One row per product a message mentions, with the price in birr the post gives for it. Products come from
-- the editable lexicon seed `product_lexicon` (aliases in English and Amharic, matched on normalised text:
-- dose and pack size do not make a new product). Prices: see macros/product_extraction.sql; delivery fees
-- and ranges are ignored. Pairing: a post naming one product gets the post's first price; a post naming
-- n products and giving n prices pairs them in order; anything else keeps the mention without a price.
-- Incremental: mentions of new or changed messages are recomputed (the pre-hook first drops the old ones,
-- so a message edited to name fewer products loses the others).
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
        pre_hook=["
            {% if is_incremental() %}
            delete from {{ this }} where message_key in (
                select message_key from {{ ref('fct_messages') }}
                where source_updated_at > {{ incremental_watermark() }}
            )
            {% endif %}
        "],
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

-- Materialized: otherwise PostgreSQL inlines it and normalises every alias again for every post.
aliases as materialized (

    select
        {{ normalise_product_text('alias') }} as alias,
        product_name,
        product_category

    from lexicon

),

prepared as (

    select
        message_key,
        message_id,
        channel_key,
        channel_name,
        date_key,
        posted_at,
        source_updated_at,
        {{ normalise_product_text('message_text') }} as product_text,
        {{ price_text('message_text') }} as price_text

    from messages
    where message_text <> ''

),

-- Where each alias first occurs in each post: strpos() over every (post, alias) pair is several times
-- cheaper than one regular expression of all aliases, whose automaton PostgreSQL rebuilds for every post.
alias_hits as (

    select
        prepared.message_key,
        aliases.product_name,
        aliases.product_category,
        hit.found_at as hit_position,
        hit.found_at + length(aliases.alias) as hit_end

    from prepared
    cross join aliases
    cross join lateral (select strpos(prepared.product_text, aliases.alias) as found_at) as hit
    where hit.found_at > 0
      and (
          -- a whole word or phrase where it first occurs ...
          (substr(prepared.product_text, hit.found_at - 1, 1) !~ '[a-z0-9]'
           and substr(prepared.product_text, hit.found_at + length(aliases.alias), 1) !~ '[a-z0-9]')
          -- ... or further on (rare: the first occurrence was inside a longer word)
          or prepared.product_text ~ ('(?<![a-z0-9])' || {{ regex_escape('aliases.alias') }} || '(?![a-z0-9])')
      )

),

-- An alias inside a longer one found at the same place ("zinc" in "calcium d3+zinc") is not a mention.
product_hits as (

    select * from alias_hits
    where not exists (
        select 1 from alias_hits as longer
        where longer.message_key = alias_hits.message_key
          and longer.hit_position <= alias_hits.hit_position
          and longer.hit_end >= alias_hits.hit_end
          and longer.hit_end - longer.hit_position > alias_hits.hit_end - alias_hits.hit_position
    )

),

-- Each product once per message, in the order of its first mention.
products as (

    select
        message_key,
        product_name,
        product_category,
        row_number() over (partition by message_key order by first_position) as product_index,
        count(*) over (partition by message_key) as product_count

    from (
        select message_key, product_name, product_category, min(hit_position) as first_position
        from product_hits
        group by message_key, product_name, product_category
    ) as distinct_products

),

prices as (

    select
        prepared.message_key,
        price.position as price_index,
        count(*) over (partition by prepared.message_key) as price_count,
        {{ price_amount('price.found') }} as price_birr

    from prepared
    cross join lateral regexp_matches(prepared.price_text, {{ price_pattern() }}, 'g')
        with ordinality as price (found, position)

),

final as (

    select
        md5(products.message_key || '-' || products.product_name) as mention_key,
        prepared.message_key,
        prepared.message_id,
        prepared.channel_key,
        prepared.channel_name,
        prepared.date_key,
        prepared.posted_at,
        md5(products.product_name) as product_key,
        products.product_name,
        products.product_category,
        prices.price_birr,
        prepared.source_updated_at

    from products
    inner join prepared on prepared.message_key = products.message_key
    left join prices
        on prices.message_key = products.message_key
        and prices.price_birr > 0
        and (
            (products.product_count = 1 and prices.price_index = 1)
            or (products.product_count = prices.price_count and prices.price_index = products.product_index)
        )

)

select * from final
