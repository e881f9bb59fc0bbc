-- One row per name (int_product_names) a segment holds: products (the lexicon, medical supplies, medicines by
-- generic, brand or misspelt name), brands, product types and dosage forms, each with the words it stands at.
-- Names are matched on whole words, and an Amharic word also after its prefix (የ-, ለ-, በ-, ከ-: "የኮኮናት ዘይት").
-- A misspelt medicine ("Azitromycine", "Amilodipin", "Sildinafil") is found where a word of six letters or more
-- that no name begins with and that is no common English word (seeds/generated/english_words.csv) is one edit
-- (two letters missing from a name of eight or more) away from the single-word name of exactly one common
-- medicine (one MedlinePlus or the NHS describe), after both are spelt alike (ph -> f, th -> t, y -> i,
-- double letters once, no final e); match_method says 'misspelling'. A name inside a longer one found at the
-- same place ("zinc" in "calcium d3+zinc", "heparin" in "heparin tube") does not count.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['message_key', 'segment_index']}, {'columns': ['source_updated_at']}],
        pre_hook=["set local jit = off", "{{ delete_changed_messages() }}"],
    )
}}

with

segments as (

    select message_key, segment_index, words, source_updated_at
    from {{ ref('int_post_segments') }}
    where cardinality(words) > 0
    {% if is_incremental() %}
      and source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

names as (

    select * from {{ ref('int_product_names') }}

),

english_words as (

    select * from {{ ref('english_words') }}

),

words as (

    select
        segments.message_key,
        segments.segment_index,
        segments.words,
        segments.source_updated_at,
        word.word,
        word.position::integer as position
    from segments
    cross join lateral unnest(segments.words) with ordinality as word (word, position)

),

-- An Amharic word also stands for itself without its prefix.
word_forms as (

    select *, word as matched_word from words

    union all

    select message_key, segment_index, words, source_updated_at, substr(word, 2), position, word
    from words
    where word ~ '^[የለበከ][\u1200-\u137f]{2}'

),

exact_hits as (

    select
        word_forms.message_key,
        word_forms.segment_index,
        word_forms.source_updated_at,
        word_forms.position as hit_position,
        word_forms.position + names.word_count - 1 as hit_end,
        array_to_string(array_prepend(word_forms.matched_word,
                                      word_forms.words[word_forms.position + 1:word_forms.position + names.word_count - 1]),
                        ' ') as matched_words,
        'exact' as match_method,
        names.name_kind,
        names.name_source,
        names.name,
        names.product_category,
        names.brand,
        names.product_type,
        names.names_product
    from word_forms
    inner join names on names.first_word = word_forms.word
    where names.word_count = 1
       or array_to_string(word_forms.words[word_forms.position + 1:word_forms.position + names.word_count - 1], ' ')
          = names.rest_words

),

-- Misspellings: the words no name begins with, spelt alike, and their one-letter deletions.
unknown_words as (

    select distinct word
    from words
    where length(word) >= 6
      and word ~ '^[a-z]+$'
      and not exists (select 1 from names where names.first_word = words.word)
      and not exists (select 1 from english_words where english_words.word = words.word)

),

medicine_words as (

    select alias_words as word, name, bool_or(is_common_medicine) as is_common
    from names
    where name_kind = 'product' and (name_source = 'medicine' or is_common_medicine)
      and word_count = 1 and length(alias_words) >= 6 and alias_words ~ '^[a-z]+$'
    group by alias_words, name

),

-- Every medicine spelt alike ("ketamin" is ketamine), a common one also with letters missing (below).
spelt_alike as (

    select word, {{ spelt_alike('word') }} as key, 'query' as side, null as name, true as is_common
    from unknown_words
    union all
    select word, {{ spelt_alike('word') }}, 'name', name, is_common from medicine_words

),

-- A name of eight letters or more also without two of them ("guafensin" for guaifenesin).
deletions as (

    select word, side, name, key, 0 as edits from spelt_alike
    union all
    select spelt_alike.word, spelt_alike.side, spelt_alike.name,
        left(spelt_alike.key, position.i - 1) || substr(spelt_alike.key, position.i + 1), 1
    from spelt_alike
    cross join lateral generate_series(1, length(spelt_alike.key)) as position (i)
    where spelt_alike.is_common
    union all
    select spelt_alike.word, spelt_alike.side, spelt_alike.name,
        left(spelt_alike.key, first.i - 1) || substr(spelt_alike.key, first.i + 1, second.i - first.i - 1)
            || substr(spelt_alike.key, second.i + 1),
        2
    from spelt_alike
    cross join lateral generate_series(1, length(spelt_alike.key)) as first (i)
    cross join lateral generate_series(first.i + 1, length(spelt_alike.key)) as second (i)
    where spelt_alike.side = 'name' and spelt_alike.is_common and length(spelt_alike.key) >= 8

),

near_names as (

    select query.word, named.name, min(query.edits + named.edits) as edits
    from deletions as query
    inner join deletions as named on named.key = query.key and named.side = 'name'
    where query.side = 'query'
    group by query.word, named.name

),

-- A misspelling counts only where the closest medicine is one medicine.
misspellings as (

    select word, min(name) as name
    from (
        select *, min(edits) over (partition by word) as fewest
        from near_names
    ) as ranked
    where edits = fewest
    group by word
    having count(distinct name) = 1

),

misspelt_hits as (

    select
        words.message_key,
        words.segment_index,
        words.source_updated_at,
        words.position as hit_position,
        words.position as hit_end,
        words.word as matched_words,
        'misspelling' as match_method,
        'product' as name_kind,
        'medicine' as name_source,
        misspellings.name,
        'Medicines' as product_category,
        null as brand,
        null as product_type,
        false as names_product
    from words
    inner join misspellings on misspellings.word = words.word

),

all_hits as (

    select * from exact_hits
    union all
    select * from misspelt_hits

),

-- Dosage forms are read beside names, never dropped for them; a name inside a longer form still is
-- ("nebulizer" in "salbutamol nebulizer solution").
final as (

    select * from all_hits
    where name_kind = 'form'
       or not exists (
           select 1 from all_hits as longer
           where longer.message_key = all_hits.message_key
             and longer.segment_index = all_hits.segment_index
             and longer.hit_position <= all_hits.hit_position
             and longer.hit_end >= all_hits.hit_end
             and longer.hit_end - longer.hit_position > all_hits.hit_end - all_hits.hit_position
       )

)

select * from final
