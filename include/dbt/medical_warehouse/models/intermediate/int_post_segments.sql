-- One row per segment of a post: its lines (blank ones too, so an item's evidence can be put back together
-- exactly), each cut after every amount with its currency or after a 💵 amount, so "ETT 3 💵230 ETT 3.5 💵225" is
-- two. A segment carries what the item reader (int_post_items) needs: its text exactly as posted, its words
-- normalised for matching names, and whether it opens a list entry (a bullet: ✅, 💊, "1.", "#") or only adds
-- details (stock 📦, expiry ⏳, a price line, "20 box per carton").
-- Reads the posts from staging, and so do its pre-hook's changes: it runs beside fct_messages, not after it.
{{ config(indexes=[{'columns': ['message_key', 'segment_index'], 'unique': True},
                   {'columns': ['source_updated_at']}],
          pre_hook=["{{ delete_changed_messages(from_staging=true) }}"]) }}

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
    cross join lateral unnest(string_to_array(messages.original_text, E'\n')) with ordinality as line (line_text, line_index)

),

-- Posts repeat their lines (a shop's footer, a price list posted again): every pattern below runs once per
-- distinct line or segment, and its result is joined back.
distinct_lines as (

    select line_text, string_to_array({{ mark_segment_ends('line_text') | replace("'g')", "'gi')") }}, chr(1)) as parts
    from (select distinct line_text from lines) as distinct_line_texts

),

segments as (

    select
        lines.channel_name,
        lines.message_id,
        lines.posted_at,
        lines.updated_at,
        lines.line_index,
        part.part_index::integer as part_index,
        part.segment_text
    from lines
    inner join distinct_lines on distinct_lines.line_text = lines.line_text
    cross join lateral unnest(distinct_lines.parts) with ordinality as part (segment_text, part_index)

),

distinct_segments as (

    select segment_text, {{ plain_lower('segment_text') }} as lower_text
    from (select distinct segment_text from segments) as distinct_segment_texts

),

classified as materialized (

    select
        *,
        {{ product_tokens(normalise_product_text('segment_text')) }} as words,
        lower_text ~ '^{{ blank() }}*(?:[0-9]{1,3}{{ blank() }}*[.)]{{ blank() }}*[^[:digit:]{{ blank_characters() }}]|#|-{{ blank() }}|[^[:alnum:]{{ blank_characters() }}(\[{"''“‘@+=.,:;/\\])'
            and lower_text !~ '^{{ blank() }}*{{ detail_marks() }}'
            and lower_text !~ '^{{ blank() }}*{{ continuation_start() }}' as is_bullet_line,
        lower_text ~ '^{{ blank() }}*{{ detail_marks() }}' as starts_with_detail_mark,
        lower_text ~ '^{{ blank() }}*{{ continuation_start() }}' as is_continuation
    from distinct_segments

),

segment_facts as materialized (

    select
        segment_text,
        words,
        is_bullet_line,
        is_continuation,
        -- a detail: marked as one, or no word but details ("20 box per carton", "Ex.date 05/23", "📦 400")
        starts_with_detail_mark
            or regexp_replace(array_to_string(words, ' '), '{{ detail_words_pattern() }}', '', 'g')
               !~ '(?:^|[^a-z0-9\u1200-\u137f])[a-z\u1200-\u137f]{2,}(?![a-z0-9\u1200-\u137f])' as is_detail,
        {{ is_delivery_line('lower_text') }} as is_delivery,
        -- the price pattern runs only where a currency, a price word, a banknote or a leader stands by a digit
        lower_text ~ '[0-9]' and lower_text ~ '(?:birr|bir|etb|ብር|br|price|ዋጋ|cost|💵|💰|=|\.\.|…)' as may_hold_price,
        {{ price_on_request('lower_text') }} as is_price_on_request,
        -- a course, a job or a video advertised: what such a post names without a price is no product on offer
        words && array['training', 'trainings', 'ስልጠና', 'ስልጠናው', 'cpd', 'ceu', 'certificate', 'course', 'courses',
                       'vacancy', 'vacancies', 'salary', 'ደመወዝ', 'scholarship', 'admission', 'webinar', 'seminar',
                       'workshop', 'hiring', 'youtube'] as is_course_or_job
    from classified

),

final as (

    select
        {{ message_key('segments.channel_name', 'segments.message_id') }} as message_key,
        segments.message_id,
        {{ channel_key('segments.channel_name') }} as channel_key,
        segments.channel_name,
        {{ date_key('segments.posted_at') }} as date_key,
        segments.posted_at,
        -- segments in post order: a line holds fewer than a thousand
        segments.line_index * 1000 + segments.part_index as segment_index,
        segments.line_index,
        segments.part_index,
        segments.segment_text,
        segment_facts.words,
        segments.part_index = 1 and segment_facts.is_bullet_line as is_bullet,
        -- a line that goes on with the entry before it ("=630 if it is attached with ...", "Ratio 4 carton ...")
        segment_facts.is_continuation,
        segment_facts.is_detail,
        segment_facts.is_delivery,
        segment_facts.may_hold_price,
        segment_facts.is_price_on_request,
        segment_facts.is_course_or_job,
        segments.updated_at as source_updated_at

    from segments
    inner join segment_facts on segment_facts.segment_text = segments.segment_text

)

select * from final
