"""Full-text search over message text (GIN index on a stored tsvector, 'simple' configuration)."""

# The 'simple' configuration neither stems nor drops stop words, so it treats English and Amharic
# alike; prefix matching (word:*) stands in for the stemming Amharic lacks. The tsquery text is built
# by api.routes.search from word characters only, and passed as a parameter.
#
# Ranking every match of a common word (5% of a million posts) costs far more than the 50 ms budget, so the
# ranking reads at most %(candidates)s matches, the newest: api_message_search is stored newest first (its dbt
# model orders it), and a LIMIT without ORDER BY stops the index-driven heap scan after that many rows in
# that physical order. Rare words have fewer matches than that and are ranked in full.
SEARCH = """
with candidates as (
    select message_key, channel_name, message_id, posted_at, view_count, message_text, document
    from api.api_message_search
    where document @@ to_tsquery('simple', %(tsquery)s) {channel_filter}
    limit %(candidates)s
),
hits as (
    select message_key, channel_name, message_id, posted_at, view_count, message_text,
           ts_rank(document, to_tsquery('simple', %(tsquery)s)) as rank
    from candidates
    order by rank desc, posted_at desc, message_key
    limit %(limit)s offset %(offset)s
)
select channel_name, message_id, posted_at, view_count, rank::float8 as rank,
       ts_headline('simple', message_text, to_tsquery('simple', %(tsquery)s),
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, '
                   'FragmentDelimiter=" … "') as snippet
from hits
order by rank desc, posted_at desc, message_key
"""

CHANNEL_FILTER = "and channel_name = %(channel)s"
