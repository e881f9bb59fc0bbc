-- The text search document of every message with text, for GET /api/search/messages. Ranking reads the stored
-- tsvector instead of re-parsing every matching text. 'simple' neither stems nor drops stop words, so English
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
{{ config(
    post_hook=[
        "create index on {{ this }} using gin (document) where age_tier = 0",
        "create index on {{ this }} using gin (document) where age_tier = 1",
        "create index on {{ this }} using gin (document) where age_tier = 2",
    ],
) }}

with

messages as (

    select * from {{ ref('fct_messages') }}

),

newest as (

    select max(posted_at) as posted_at from messages

)

select
    messages.message_key,
    messages.channel_name,
    messages.message_id,
    messages.posted_at,
    messages.view_count,
    case
        when messages.posted_at >= newest.posted_at - interval '30 days' then 0
        when messages.posted_at >= newest.posted_at - interval '365 days' then 1
        else 2
    end as age_tier,
    to_tsvector('simple', messages.message_text)
        || array_to_tsvector(array['@' || messages.channel_name]) as document
from messages
cross join newest
where coalesce(messages.message_text, '') <> ''
order by messages.posted_at desc
