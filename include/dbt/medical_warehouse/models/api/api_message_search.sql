-- Messages with their text search document stored, for GET /api/search/messages. Ranking reads the stored
-- tsvector instead of re-parsing every matching text. 'simple' neither stems nor drops stop words, so
-- English and Amharic are indexed alike. Stored newest first: the API ranks the newest matches of a common word
-- (api/queries/search.py), and this order makes those the first rows its scan meets.
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
    message_text,
    to_tsvector('simple', message_text) as document
from messages
where coalesce(message_text, '') <> ''
order by posted_at desc
