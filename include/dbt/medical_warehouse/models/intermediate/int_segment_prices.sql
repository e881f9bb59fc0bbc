-- One row per amount a segment gives in birr (macros/product_extraction.sql: price_pattern): "💵145",
-- "Price 5000 birr", "ዋጋ 2,450 ብር", "900 ETB". price_birr is null where the amount is no price (a phone number, a
-- year, a range); is_old_price marks the price that no longer applies ("was 1,200 birr", "900 birr ❌").
-- Delivery-fee lines give none.
-- depends_on: {{ ref('fct_messages') }} (the pre-hook drops the rows of every message changed since the last run)
{{ config(indexes=[{'columns': ['message_key', 'segment_index']},
                   {'columns': ['source_updated_at']}],
          pre_hook=["{{ delete_changed_messages() }}"]) }}

with

segments as (

    select message_key, segment_index, segment_text, source_updated_at from {{ ref('int_post_segments') }}
    where may_hold_price and not is_delivery
    {% if is_incremental() %}
      and source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

-- The pattern runs once per distinct segment text (price lines repeat across posts).
amounts as materialized (

    select
        texts.segment_text,
        price.position::integer as price_position,
        price.found[1] is not null or price.found[10] is not null as is_old_price,
        {{ price_amount('price.found') }} as price_birr
    from (select distinct segment_text from segments) as texts
    cross join lateral regexp_matches({{ plain_lower('texts.segment_text') }}, {{ price_pattern() }}, 'g')
        with ordinality as price (found, position)

),

final as (

    select
        segments.message_key,
        segments.segment_index,
        amounts.price_position,
        amounts.is_old_price,
        amounts.price_birr,
        segments.source_updated_at
    from segments
    inner join amounts on amounts.segment_text = segments.segment_text

)

select * from final
