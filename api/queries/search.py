"""Full-text search over message text (GIN index on a stored tsvector, 'simple' configuration)."""

# The 'simple' configuration neither stems nor drops stop words, so it treats English and Amharic
# alike; prefix matching (word:*) stands in for the stemming Amharic lacks. The tsquery text is built
# by api.routes.search from word characters only, and passed as a parameter.
#
# Ranking every match of a common word (5% of a million posts) costs far more than the 50 ms budget, so the
# ranking reads at most %(candidates)s matches, the newest. api_message_search keeps a partial GIN index per age
# tier (newest 30 days, the year before, older; see its dbt model): the UNION ALL below asks the newest tier
# first and, because its LIMIT stops the Append as soon as it has enough rows, reaches older tiers only when
# the newer ones hold too few matches. Rare words are therefore ranked over all their matches.
_TIER = """(
    select message_key, channel_name, message_id, posted_at, view_count, document
    from api.api_message_search
    where age_tier = {tier} and document @@ {{match}}
    limit %(candidates)s
)"""

SEARCH = """
with candidates as (
    """ + "\n    union all\n    ".join(_TIER.format(tier=tier) for tier in (0, 1, 2)) + """
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

# What the stored document must match: the words, and with a channel filter also the channel's own lexeme
# ('@<channel_name>', see the dbt model), which the GIN index intersects with the words.
MATCH = "to_tsquery('simple', %(tsquery)s)"
MATCH_IN_CHANNEL = "(to_tsquery('simple', %(tsquery)s) && %(channel_lexeme)s::tsquery) and channel_name = %(channel)s"
