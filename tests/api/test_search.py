"""GET /api/search/messages: full-text search over the sample, English and Amharic, checked by hand."""

from __future__ import annotations

import pytest

from tests.api import api_expected as expected


def _search(api, **params):
    response = api.get("/api/search/messages", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(body) -> set[int]:
    return {hit["message_id"] for hit in body["items"]}


@pytest.mark.parametrize(
    "query",
    ["nido", "ENSURE", "melatonin", "olive oil", "kirk", "magnesium glycinate"],
)
def test_search_messages_finds_every_post_with_the_words(api, query):
    want = {p["message_id"] for p in expected.matching_posts(expected.words(query))}
    assert want, "the sample has posts with these words"
    body = _search(api, query=query, limit=100)
    assert _ids(body) == want
    assert body["next_offset"] is None


def test_search_messages_prefix_matches_longer_words(api):
    """'magnes' finds MAGNESIUM (Amharic has no stemmer, so prefixes stand in for one)."""
    assert _ids(_search(api, query="magnes", limit=100)) == _ids(_search(api, query="magnesium", limit=100))


def test_search_messages_amharic(api):
    # "የትራንስፖርት" (transport) is in the footer of the posts with a delivery line.
    query = "የትራንስፖርት"
    want = {p["message_id"] for p in expected.matching_posts([query])}
    assert want
    body = _search(api, query=query, limit=100)
    assert _ids(body) == want
    assert all(f"<mark>{query}</mark>" in hit["snippet"] for hit in body["items"])


def test_search_messages_ranked_and_highlighted(api):
    body = _search(api, query="nido", limit=20)
    ranks = [hit["rank"] for hit in body["items"]]
    assert ranks == sorted(ranks, reverse=True)
    for hit in body["items"]:
        assert "<mark>" in hit["snippet"].lower() and "nido" in hit["snippet"].lower()
        assert hit["channel_name"] == "lobelia4cosmetics"


def test_search_messages_pages_cover_every_hit_once(api):
    want = {p["message_id"] for p in expected.matching_posts(["telegram"])}
    seen: list[int] = []
    offset = 0
    while offset is not None:
        body = _search(api, query="telegram", limit=25, offset=offset)
        assert len(body["items"]) <= 25
        seen.extend(hit["message_id"] for hit in body["items"])
        offset = body["next_offset"]
    assert len(seen) == len(set(seen)) == len(want)
    assert set(seen) == want


def test_search_messages_channel_filter(api):
    assert _ids(_search(api, query="nido", channel="lobelia4cosmetics", limit=100))
    assert _search(api, query="nido", channel="some_other_channel")["items"] == []


@pytest.mark.parametrize("query", ["paracetamol", "ፓራሲታሞል", "!!!", "'\" & | ! :* ()"])
def test_search_messages_without_match_is_empty(api, query):
    body = _search(api, query=query)
    assert body["items"] == [] and body["next_offset"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"query": "x" * 201}, "query"),
        ({"query": ""}, "query"),
        ({}, "query"),
        ({"query": "nido", "limit": "0"}, "limit"),
        ({"query": "nido", "limit": "101"}, "limit"),
        ({"query": "nido", "limit": "many"}, "limit"),
        ({"query": "nido", "offset": "-1"}, "offset"),
        ({"query": "nido", "offset": "200"}, "offset: past the 200 best-ranked matches"),  # not a silent empty page
        ({"query": "nido", "channel": "not a channel"}, "channel"),
    ],
)
def test_search_messages_bad_input_is_422(api, params, field):
    response = api.get("/api/search/messages", params=params)
    assert response.status_code == 422
    body = response.json()
    assert field in body["message"]
    assert "x" * 201 not in response.text, "the input is not echoed back"
