-- One row per segment of a post: its lines (blank ones too, so an item's evidence can be put back together
-- exactly), each cut after every amount with its currency or after a 💵 amount, so "ETT 3 💵230 ETT 3.5 💵225" is
-- two. A segment carries what the item reader (int_post_items) needs: its text exactly as posted, its words
-- normalised for matching names, and whether it opens a list entry (a bullet: ✅, 💊, "1.", "#") or only adds
-- details (stock 📦, expiry ⏳, a price line, "20 box per carton").
-- depends_on: {{ ref('fct_messages') }} (the pre-hook drops the segments of every message changed since the last run)
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['message_key', 'segment_index'], 'unique': True}, {'columns': ['source_updated_at']}],
        pre_hook=["set local jit = off", "{{ delete_changed_messages() }}"],
    )
}}

with

messages as (

    select * from {{ ref('stg_telegram_messages') }}
    where original_text <> ''
    {% if is_incremental() %}
      and updated_at > {{ incremental_watermark() }}
    {% endif %}

),

lines as (

    select
        messages.channel_name,
        messages.message_id,
        messages.posted_at,
        messages.updated_at,
        line.line_text,
        line.line_index::integer as line_index
    from messages
    cross join lateral regexp_split_to_table(messages.original_text, E'\n') with ordinality as line (line_text, line_index)

),

segments as (

    select
        lines.channel_name,
        lines.message_id,
        lines.posted_at,
        lines.updated_at,
        lines.line_index,
        part.part_index::integer as part_index,
        part.segment_text,
        {{ plain_lower('part.segment_text') }} as lower_text
    from lines
    cross join lateral regexp_split_to_table(
        {{ mark_segment_ends('lines.line_text') | replace("'g')", "'gi')") }}, chr(1)
    ) with ordinality as part (segment_text, part_index)

),

classified as (

    select
        *,
        {{ product_tokens(normalise_product_text('segment_text')) }} as words,
        part_index = 1
            and lower_text ~ '^{{ blank() }}*(?:[0-9]{1,3}{{ blank() }}*[.)]{{ blank() }}*[^[:digit:]{{ blank_characters() }}]|#|-{{ blank() }}|[^[:alnum:]{{ blank_characters() }}(\[{"''“‘@+=.,:;/\\])'
            and lower_text !~ '^{{ blank() }}*{{ continuation_start() }}'
            and lower_text !~ '^{{ blank() }}*{{ detail_marks() }}' as is_bullet,
        lower_text ~ '^{{ blank() }}*{{ detail_marks() }}' as starts_with_detail_mark,
        lower_text ~ '^{{ blank() }}*{{ continuation_start() }}' as is_continuation
    from segments

),

final as (

    select
        {{ message_key('channel_name', 'message_id') }} as message_key,
        message_id,
        {{ channel_key('channel_name') }} as channel_key,
        channel_name,
        {{ date_key('posted_at') }} as date_key,
        posted_at,
        -- segments in post order: a line holds fewer than a thousand
        line_index * 1000 + part_index as segment_index,
        line_index,
        part_index,
        segment_text,
        words,
        is_bullet,
        -- a line that goes on with the entry before it ("=630 if it is attached with ...", "Ratio 4 carton ...")
        is_continuation,
        -- a detail: marked as one, or no word but details ("20 box per carton", "Ex.date 05/23", "📦 400")
        starts_with_detail_mark or not exists (
            select 1 from unnest(words) as word
            where word ~ '^[a-z\u1200-\u137f]{2,}$' and word <> all ({{ detail_words() }})
        ) as is_detail,
        {{ is_delivery_line('lower_text') }} as is_delivery,
        lower_text ~ '[0-9]' as may_hold_price,
        {{ price_on_request('lower_text') }} as is_price_on_request,
        updated_at as source_updated_at

    from classified

)

select * from final
