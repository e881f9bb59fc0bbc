"""GET /api/search/messages: ranked full-text search with highlighted snippets."""

import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from api.deps import SettingsDep, WarehouseDep
from api.queries import search as sql
from api.routes.params import ChannelFilter, channel_key
from api.schemas import UNAVAILABLE, MessageHit, MessageSearch

router = APIRouter(prefix="/search", tags=["search"], responses=UNAVAILABLE)

# Word characters of any script (Latin, Ethiopic, digits); everything else only separates words, so no
# tsquery operator the client types can reach to_tsquery.
_WORD = re.compile(r"[^\W_]+")
# Shorter words match exactly: a one- or two-letter prefix would match most of the warehouse.
_MIN_PREFIX = 3
_MAX_WORDS = 16


def to_tsquery_text(query: str) -> str | None:
    """'Paracetamol 500mg' -> 'paracetamol:* & 500mg:*'; None when the query holds no word at all."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:_MAX_WORDS]
    if not words:
        return None
    return " & ".join(f"{w}:*" if len(w) >= _MIN_PREFIX else w for w in words)


@router.get("/messages", response_model=MessageSearch)
async def search_messages(
    db: WarehouseDep,
    settings: SettingsDep,
    query: Annotated[
        str, Query(min_length=1, max_length=200, description="words to find (English or Amharic); all must match")
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="hits per page (1..100)")] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000, description="hits to skip (paging)")] = 0,
    channel: ChannelFilter = None,
) -> MessageSearch:
    """Messages holding every word of `query` (a word of 3+ letters also matches as a prefix), best ranked
    first (ts_rank, then newest), each with a highlighted snippet. The ranking considers the newest
    API_SEARCH_CANDIDATES (default 200) matches: page with `offset`, or narrow with more words or `channel`."""
    tsquery = to_tsquery_text(query)
    candidates = settings.search_candidates
    if offset >= candidates:  # past what is ranked: say so, rather than answer an empty page
        raise RequestValidationError([{
            "loc": ("query", "offset"), "type": "value_error",
            "msg": f"past the {candidates} best-ranked matches a search pages through; narrow it with more words"
                   " or a channel",
        }])
    items: list[MessageHit] = []
    has_more = False
    if tsquery:
        params = {"tsquery": tsquery, "limit": limit + 1, "offset": offset, "candidates": candidates}
        match = sql.MATCH
        if channel:
            name = channel_key(channel)
            # A quoted tsquery lexeme; the name is [a-z0-9_] only (validated), so it needs no escaping.
            params.update(channel=name, channel_lexeme=f"'@{name}'")
            match = sql.MATCH_IN_CHANNEL
        rows = await db.fetch_all(sql.SEARCH.format(match=match), params)
        has_more = len(rows) > limit
        items = [MessageHit(**row) for row in rows[:limit]]
    return MessageSearch(
        query=query, items=items, limit=limit, offset=offset, next_offset=offset + limit if has_more else None
    )
