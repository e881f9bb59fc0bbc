"""Why a product was counted (GET /api/reports/product-mentions) and search by product (GET
/api/search/messages): a post is found by the products it mentions, not only by its words."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from medical_telegram import lake
from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate
from tests.api import api_expected as expected
from tests.api.api_harness import API_ROLE, as_role, serve_api


def test_product_mentions_show_the_text_each_was_read_from(api):
    body = api.get("/api/reports/product-mentions", params={"product": "Nido 1+", "limit": 100}).json()
    texts = {(p["channel_name"], p["message_id"]): p["message_text"] for p in expected.posts()}
    labelled = [post for post, mentions in expected.labelled_mentions().items()
                if any(m["product_name"] == "Nido 1+" for m in mentions) and post[1] in {i for _, i in texts}]
    assert body["product_name"] == "Nido 1+" and len(body["items"]) == len(labelled) > 0
    for item in body["items"]:
        text = texts[(item["channel_name"], item["message_id"])]
        assert item["evidence"] in text and item["matched_text"] in item["evidence"]
        assert item["matched_text"].lower().startswith("nido")
    posted = [item["posted_at"] for item in body["items"]]
    assert posted == sorted(posted, reverse=True)


def test_product_mentions_of_an_unknown_product_are_none(api):
    body = api.get("/api/reports/product-mentions", params={"product": "No Such Product"}).json()
    assert body["items"] == []


def test_search_finds_a_brand_by_its_name_where_the_post_spells_it_otherwise(api):
    """The sample writes "Lilcretters"; the product is Lil Critters."""
    body = api.get("/api/search/messages", params={"query": "critters", "limit": 100}).json()
    want = {p["message_id"] for p in expected.posts() if "lilcretters" in p["message_text"].lower()}
    assert want and {hit["message_id"] for hit in body["items"]} == want
    for hit in body["items"]:
        assert hit["matched_by"] == ["product"]
        assert [p["matched_text"] for p in hit["products"]] == ["Lilcretters"]


@pytest.fixture(scope="module")
def paracetamol_api(make_database, tmp_path_factory):
    """A warehouse of posts naming paracetamol by a brand, in Amharic and by its US name, and one that does not."""
    posts = {1: "Panadol Extra 500mg\nPrice 150 birr", 2: "ፓራሲታሞል 500 ሚ.ግ\nዋጋ 100 ብር",
             3: "Acetaminophen 500 mg tabs 💵90", 4: "Paracetamol syrup 💵50", 5: "Vitamin C 1000mg - 900 ETB"}
    root: Path = tmp_path_factory.mktemp("lake")
    lake.write_messages(root, [lake.MessageRecord.from_dict({
        "channel_name": "shop", "message_id": i, "message_date": f"2026-01-2{i}T08:00:00+00:00",
        "scraped_at": "2026-01-26T08:00:00+00:00", "source": "telethon", "message_text": text})
        for i, text in posts.items()])
    dsn = make_database("mtw_search")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, root)
    run_dbt(["build", "--select", "+api_message_search", "+api_product_mentions", "+api_top_products",
             "--exclude-resource-type",
             "test", "--exclude-resource-type", "unit_test"], dsn)
    with serve_api(as_role(dsn, API_ROLE), tmp_path_factory.mktemp("api") / "uvicorn.log") as client:
        yield client


def test_search_for_a_generic_finds_the_posts_that_name_it_otherwise(paracetamol_api):
    body = paracetamol_api.get("/api/search/messages", params={"query": "paracetamol"}).json()
    hits = {hit["message_id"]: hit for hit in body["items"]}
    assert set(hits) == {1, 2, 3, 4}
    # the word of the text itself ranks first
    assert body["items"][0]["message_id"] == 4 and hits[4]["matched_by"] == ["text", "product"]
    assert {i: hits[i]["matched_by"] for i in (1, 2, 3)} == {1: ["product"], 2: ["product"], 3: ["product"]}
    assert [p["matched_text"] for p in hits[1]["products"]] == ["Panadol"]
    assert [p["matched_text"] for p in hits[2]["products"]] == ["ፓራሲታሞል"]
    assert hits[1]["products"][0]["evidence"] == "Panadol Extra 500mg\nPrice 150 birr"
    assert hits[1]["products"][0]["price_birr"] == 150
    top = paracetamol_api.get("/api/reports/top-products").json()["items"]
    assert top[0]["product_name"] == "Paracetamol" and top[0]["mention_count"] == 4
