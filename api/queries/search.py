"""Full-text search over message text (GIN index on a stored tsvector, 'simple' configuration)."""

# The 'simple' configuration neither stems nor drops stop words, so it treats English and Amharic
# alike; prefix matching (word:*) stands in for the stemming Amharic lacks. The tsquery text is built
# by api.routes.search from word characters only, and passed as a parameter.
#
# Ranking every match of a common word (5% of a million posts) costs far more than the 50 ms budget, so the
# ranking reads at most %(candidates)s matches, the newest: api_message_search is stored newest first (its dbt
# model orders it), and a LIMIT without ORDER BY stops the scan (bitmap heap or sequential, both in stored
# order) after that many rows. Rare words have fewer matches than that and are ranked in full. The table is
# narrow; the text for the snippets is read from fct_messages for the returned page only.
SEARCH = """
with candidates as (
    select message_key, channel_name, message_id, posted_at, view_count, document
    from api.api_message_search
    where document @@ to_tsquery('simple', %(tsquery)s) {channel_filter}
    limit %(candidates)s
),
hits as (
    select message_key, channel_name, message_id, posted_at, view_count,
           ts_rank(document, to_tsquery('simple', %(tsquery)s)) as rank
    from candidates
    order by rank desc, posted_at desc, message_key
    limit %(limit)s offset %(offset)s
)
select hits.channel_name, hits.message_id, hits.posted_at, hits.view_count, hits.rank::float8 as rank,
       ts_headline('simple', messages.message_text, to_tsquery('simple', %(tsquery)s),
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, '
                   'FragmentDelimiter=" … "') as snippet
from hits
join marts.fct_messages as messages on messages.message_key = hits.message_key
order by hits.rank desc, hits.posted_at desc, hits.message_key
"""

CHANNEL_FILTER = "and channel_name = %(channel)s"
