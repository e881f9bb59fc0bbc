-- The text search document of every message with text, for GET /api/search/messages. Ranking reads the stored
-- tsvector instead of re-parsing every matching text. 'simple' neither stems nor drops stop words, so English
-- and Amharic are indexed alike. Narrow on purpose (no message text: the API fetches it from fct_messages for
-- the page it returns), and stored newest first: the API ranks the newest matches of a common word
-- (api/queries/search.py), and this order makes those the first rows a scan meets.
{{ config(indexes=[
    {'columns': ['document'], 'type': 'gin'},
    {'columns': ['channel_name']},
]) }}

with

messages as (

    select * from {{ ref('fct_messages') }}

)

select
    message_key,
    channel_name,
    message_id,
    posted_at,
    view_count,
    to_tsvector('simple', message_text) as document
from messages
where coalesce(message_text, '') <> ''
order by posted_at desc
