-- One row per name (int_product_names) a segment holds: products (the lexicon, medical supplies, medicines by
-- generic, brand or misspelt name), brands, product types and dosage forms, each with the words it stands at.
-- Names are matched on whole words, and an Amharic word also after its prefix (የ-, ለ-, በ-, ከ-: "የኮኮናት ዘይት").
-- Misspelt words ("Azitromycine", "Amilodipin", "strecher", "electrolyt analyzer") are read as the words of names
-- they are spelt like (below); match_method says 'misspelling'. A name inside a longer one found at the
-- same place ("zinc" in "calcium d3+zinc", "heparin" in "heparin tube") does not count.
-- depends_on: {{ ref('fct_messages') }} (the pre-hook drops the rows of every message changed since the last run)
{{ config(indexes=[{'columns': ['message_key', 'segment_index']},
                   {'columns': ['source_updated_at']}],
          pre_hook=["{{ delete_changed_messages() }}"]) }}

with

segments as (

    select message_key, segment_index, words, source_updated_at
    from {{ ref('int_post_segments') }}
    where cardinality(words) > 0
    {% if is_incremental() %}
      and source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

-- Segments repeat their words (a footer, a list posted again): names are looked for once per distinct list of
-- words, and the hits joined back.
phrases as materialized (

    select distinct words from segments

),

names as (

    select * from {{ ref('int_product_names') }}

),

english_words as (

    select * from {{ ref('english_words') }}

),

-- Misspellings: a word of six letters or more that no name holds and no common English word is, read as the
-- word of a name it is spelt like (ph -> f, th -> t, y -> i, double letters once, no final e: "chlopheniramine",
-- "incubattor", "electrolyt"), or one letter away from (two missing from a word of eight or more; more than one
-- edit only with the same first letter: "Wattmeter" is no Artemether), when exactly one such word is closest.
-- Words of the generated medicine names count only as a generic name ("Tenaline" is no Tenalin, a brand), and
-- beyond spelling alike only as a MedlinePlus or NHS one: a misspelling is never read as a brand.
name_words as (

    select
        word,
        bool_or(name_kind <> 'product' or name_source <> 'medicine' or is_common_medicine) as is_target,
        bool_or(name_kind <> 'product' or name_source <> 'medicine' or is_common_medicine
                or alias_words = lower(name)) as is_generic
    from names
    cross join lateral unnest(string_to_array(alias_words, ' ')) as word
    group by word

),

post_words as (

    select distinct word
    from phrases
    cross join lateral unnest(phrases.words) as word

),

unknown_words as (

    select post_words.word
    from post_words
    where length(post_words.word) >= 6
      and post_words.word ~ '^[a-z]+$'
      and not exists (select 1 from name_words where name_words.word = post_words.word)
      and not exists (select 1 from english_words where english_words.word = post_words.word)

),

spelt_alike as (

    select word, {{ spelt_alike('word') }} as key, 'query' as side, true as is_target
    from unknown_words
    union all
    select word, {{ spelt_alike('word') }}, 'name', is_target
    from name_words
    where is_generic and length(word) >= 6 and word ~ '^[a-z]+$'

),

deletions as (

    select word, side, key, 0 as edits from spelt_alike
    union all
    select spelt_alike.word, spelt_alike.side,
        left(spelt_alike.key, position.i - 1) || substr(spelt_alike.key, position.i + 1), 1
    from spelt_alike
    cross join lateral generate_series(1, length(spelt_alike.key)) as position (i)
    where spelt_alike.is_target
    union all
    select spelt_alike.word, spelt_alike.side,
        left(spelt_alike.key, first.i - 1) || substr(spelt_alike.key, first.i + 1, second.i - first.i - 1)
            || substr(spelt_alike.key, second.i + 1),
        2
    from spelt_alike
    cross join lateral generate_series(1, length(spelt_alike.key)) as first (i)
    cross join lateral generate_series(first.i + 1, length(spelt_alike.key)) as second (i)
    where spelt_alike.side = 'name' and spelt_alike.is_target and length(spelt_alike.key) >= 8

),

near_words as (

    select query.word, named.word as target, min(query.edits + named.edits) as edits
    from deletions as query
    inner join deletions as named on named.key = query.key and named.side = 'name'
    where query.side = 'query'
      and (query.edits + named.edits <= 1 or left(query.word, 1) = left(named.word, 1))
    group by query.word, named.word

),

-- Closest words spelt alike are spellings of one word ("azithromycin", "azithromycine"): any will do.
corrections as (

    select word, min(target) as target
    from (select *, min(edits) over (partition by word) as fewest from near_words) as ranked
    where edits = fewest
    group by word
    having count(distinct {{ spelt_alike('target') }}) = 1

),

-- The phrases' words with misspellings corrected, beside the words as written.
corrected as (

    select
        phrases.words as written_words,
        case when phrases.words && (select coalesce(array_agg(word), '{}') from corrections)
            then array(
                select coalesce(corrections.target, word.word)
                from unnest(phrases.words) with ordinality as word (word, position)
                left join corrections on corrections.word = word.word
                order by word.position)
            else phrases.words end as words
    from phrases

),

words as (

    select
        corrected.*,
        word.word,
        word.position::integer as position
    from corrected
    cross join lateral unnest(corrected.words) with ordinality as word (word, position)

),

-- An Amharic word also stands for itself without its prefix.
word_forms as (

    select * from words

    union all

    select written_words, words, substr(word, 2), position
    from words
    where word ~ '^[የለበከ][\u1200-\u137f]{2}'

),

exact_hits as (

    select
        word_forms.written_words,
        word_forms.position as hit_position,
        word_forms.position + names.word_count - 1 as hit_end,
        array_to_string(word_forms.written_words[word_forms.position:word_forms.position + names.word_count - 1], ' ')
            as matched_words,
        case when word_forms.written_words[word_forms.position:word_forms.position + names.word_count - 1]
                  = word_forms.words[word_forms.position:word_forms.position + names.word_count - 1]
            then 'exact' else 'misspelling' end as match_method,
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

all_hits as (

    select * from exact_hits

),

-- Dosage forms are read beside names, never dropped for them; a name inside a longer form still is
-- ("nebulizer" in "salbutamol nebulizer solution").
phrase_hits as materialized (

    select * from all_hits
    where name_kind = 'form'

    union all

    -- (an anti-join, hashed on the phrase: an OR with the line above would make it a subquery per hit)
    select * from all_hits
    where name_kind <> 'form'
      and not exists (
          select 1 from all_hits as longer
          where longer.written_words = all_hits.written_words
            and longer.hit_position <= all_hits.hit_position
            and longer.hit_end >= all_hits.hit_end
            and longer.hit_end - longer.hit_position > all_hits.hit_end - all_hits.hit_position
      )

),

final as (

    select
        segments.message_key,
        segments.segment_index,
        phrase_hits.hit_position,
        phrase_hits.hit_end,
        phrase_hits.matched_words,
        phrase_hits.match_method,
        phrase_hits.name_kind,
        phrase_hits.name_source,
        phrase_hits.name,
        phrase_hits.product_category,
        phrase_hits.brand,
        phrase_hits.product_type,
        phrase_hits.names_product,
        segments.source_updated_at
    from segments
    inner join phrase_hits on phrase_hits.written_words = segments.words

)

select * from final
