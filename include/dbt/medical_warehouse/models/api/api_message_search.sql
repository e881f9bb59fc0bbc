-- The text search document of every message with text, for GET /api/search/messages: the text's words, and
-- the names of the products the message mentions. Ranking reads the stored tsvector instead of re-parsing
-- every matching text. 'simple' neither stems nor drops stop words, so English
-- and Amharic are indexed alike. Narrow on purpose (no message text: the API fetches it from fct_messages for
-- the page it returns).
--
-- The API ranks the newest matches of a word (api/queries/search.py). A common word's matches in the whole
-- table are many (building that list costs more than the API's budget), so rows carry an age tier (the
-- newest 30 days, the year before, older), each tier has its own partial GIN index, and the API searches the
-- newest tier first and older tiers only when it still needs matches. Stored newest first within the table.
-- The document also holds one lexeme naming the channel, '@<channel_name>' (no word a user types can become
-- it: the API's query words never start with '@'), so a channel filter is one more term the GIN index
-- intersects instead of a second index to combine.
-- Incremental: the rows of new and changed messages are replaced (the pre-hook first drops the old ones, so a
-- message whose text was emptied leaves the table); the post-hooks move rows whose age tier changed because
-- newer posts arrived, and create each tier's index once (on the first build and after a full refresh).
{#- No nested loops on an incremental run: the estimate of the changed messages (beyond the statistics'
    histogram) is often 1 row, and nested loops over them took 8-15 s at a million posts where hash joins take
    0.5 s. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['message_key'], 'unique': True}, {'columns': ['source_updated_at']}],
    pre_hook=[
        "set local enable_nestloop = {{ 'off' if is_incremental() else 'on' }}",
        "{{ delete_changed_messages() }}"],
    post_hook=[
        "{% if is_incremental() %}
        update {{ this }} as search set age_tier = {{ search_age_tier('search.posted_at', 'newest.posted_at') }}
        from (select max(posted_at) as posted_at from {{ ref('fct_messages') }}) as newest
        where search.age_tier <> {{ search_age_tier('search.posted_at', 'newest.posted_at') }}
        {% endif %}",
        "{{ create_index_once('gin (document) where age_tier = 0', 'tier0',
                              '%USING gin (document) WHERE (age_tier = 0)') }}",
        "{{ create_index_once('gin (document) where age_tier = 1', 'tier1',
                              '%USING gin (document) WHERE (age_tier = 1)') }}",
        "{{ create_index_once('gin (document) where age_tier = 2', 'tier2',
                              '%USING gin (document) WHERE (age_tier = 2)') }}",
    ],
) }}

with

messages as (

    select * from {{ ref('fct_messages') }}
    {% if is_incremental() %}
    where source_updated_at > {{ incremental_watermark() }}
    {% endif %}

),

-- Over every message, not only the changed ones: the tiers count back from the newest post of all.
newest as (

    select max(posted_at) as posted_at from {{ ref('fct_messages') }}

),

-- The products a message's mentions resolve to, so a search for "paracetamol" also finds the posts that say
-- "Panadol", "Acetaminophen" or "ፓራሲታሞል" (weight B: a word of the text itself ranks higher).
mentioned as (

    select message_key,
        -- a brand alone is searched by the brand: "(unspecified product)" is no word of the post
        string_agg(distinct replace(product_name, ' (unspecified product)', ''), ' ') as product_names
    from {{ ref('fct_product_mentions') }}
    where {{ message_key_in('messages') }}
    group by message_key

)

select
    messages.message_key,
    messages.channel_name,
    messages.message_id,
    messages.posted_at,
    messages.view_count,
    {{ search_age_tier('messages.posted_at', 'newest.posted_at') }} as age_tier,
    setweight(to_tsvector('simple', messages.message_text), 'A')
        || setweight(to_tsvector('simple', coalesce(mentioned.product_names, '')), 'B')
        || array_to_tsvector(array['@' || messages.channel_name]) as document,
    messages.source_updated_at
from messages
cross join newest
left join mentioned on mentioned.message_key = messages.message_key
where coalesce(messages.message_text, '') <> ''
order by messages.posted_at desc
