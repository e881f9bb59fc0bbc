"""Full-text search over message text and the products each message mentions (GIN index on a stored tsvector,
'simple' configuration; see the dbt model api_message_search)."""

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
select hits.channel_name, hits.message_id, hits.posted_at, hits.view_count, round(hits.rank::numeric, 4)::float8 as rank,
       ts_headline('simple', messages.message_text, to_tsquery('simple', %(tsquery)s),
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, '
                   'FragmentDelimiter=" … "') as snippet,
       array_remove(array[
           case when to_tsvector('simple', messages.message_text) @@ to_tsquery('simple', %(tsquery)s) then 'text' end,
           case when products.items is not null then 'product' end], null) as matched_by,
       coalesce(products.items, '[]'::json) as products
from hits
join marts.fct_messages as messages on messages.message_key = hits.message_key
cross join lateral (
    -- the post's products whose name matches: how a post that never writes the word was found
    select array_to_json(array_agg(item order by m.item_index)) as items
    from api.api_product_mentions as m
    cross join lateral (select m.product_name, m.matched_text, m.evidence, m.price_birr::float8 as price_birr) as item
    where m.message_key = hits.message_key
      and to_tsvector('simple', m.product_name) @@ to_tsquery('simple', %(tsquery)s)
) as products
order by hits.rank desc, hits.posted_at desc, hits.message_key
"""

# What the stored document must match: the words, and with a channel filter also the channel's own lexeme
# ('@<channel_name>', see the dbt model), which the GIN index intersects with the words.
MATCH = "to_tsquery('simple', %(tsquery)s)"
MATCH_IN_CHANNEL = "(to_tsquery('simple', %(tsquery)s) && %(channel_lexeme)s::tsquery) and channel_name = %(channel)s"
