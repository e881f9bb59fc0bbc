"""GET /api/reports/top-products and /api/reports/visual-content against the sample, checked by hand."""

from __future__ import annotations

import statistics
from datetime import date, datetime

import psycopg
import pytest

from tests.api import api_expected as expected

CHANNEL = "lobelia4cosmetics"


def _comparable(items: list[dict]) -> list[dict]:
    keys = ("product_name", "product_category", "brand", "product_type", "is_brand_only", "mention_count",
            "channels", "median_price_birr", "latest_price_birr", "variants")
    rows = []
    for item in items:
        row = {k: item[k] for k in keys}
        row["last_mentioned_at"] = datetime.fromisoformat(item["last_mentioned_at"])
        rows.append(row)
    return rows


def test_read_top_products_matches_the_posts(api):
    response = api.get("/api/reports/top-products", params={"limit": 10})
    assert response.status_code == 200
    body = response.json()
    assert body["limit"] == 10 and len(body["items"]) == 10
    assert _comparable(body["items"]) == expected.top_products()[:10]
    assert all(item["channel_count"] == len(item["channels"]) for item in body["items"])


def test_read_top_products_default_limit_is_ten(api):
    assert len(api.get("/api/reports/top-products").json()["items"]) == 10


def test_read_top_products_all_of_them(api):
    body = api.get("/api/reports/top-products", params={"limit": 100}).json()
    assert _comparable(body["items"]) == expected.top_products()


def test_read_top_products_median_differs_from_latest(api):
    """Prenatal Gummies: 60 at 5000 and 90 at 6000, newest 5000; the median of the four is 5500, and per pack
    size the prices compare like with like."""
    items = {i["product_name"]: i for i in api.get("/api/reports/top-products", params={"limit": 100}).json()["items"]}
    prenatal = items["Prenatal Gummies"]
    assert prenatal["mention_count"] == 4
    assert prenatal["median_price_birr"] == statistics.median([5000, 6000, 5000, 6000]) == 5500
    assert prenatal["latest_price_birr"] == 5000
    assert [(v["pack_count"], v["mention_count"], v["median_price_birr"]) for v in prenatal["variants"]] == [
        (60, 2, 5000), (90, 2, 6000)]


def test_read_top_products_a_brand_alone_is_not_one_of_its_products(api):
    """"ENSURE 850GM" and "ENSURE FROM USA 400GM" name the brand, not Ensure Powder; "ENSURE LIQUID" names one."""
    items = {i["product_name"]: i for i in api.get("/api/reports/top-products", params={"limit": 100}).json()["items"]}
    ensure = items["Ensure (unspecified product)"]
    assert (ensure["brand"], ensure["is_brand_only"], ensure["mention_count"]) == ("Ensure", True, 5)
    assert [(v["pack_size"], v["mention_count"], v["median_price_birr"]) for v in ensure["variants"]] == [
        ("400 g", 3, 4500), ("850 g", 2, 5000)]
    assert "Ensure Powder" not in items
    assert (items["Ensure Liquid"]["brand"], items["Ensure Liquid"]["is_brand_only"]) == ("Ensure", False)


@pytest.mark.parametrize(
    ("since", "until"),
    [(date(2026, 1, 15), date(2026, 1, 15)), (date(2026, 1, 16), None), (None, date(2026, 1, 16))],
)
def test_read_top_products_between_dates(api, since, until):
    params = {"limit": 100, "channel": CHANNEL}
    if since:
        params["since"] = since.isoformat()
    if until:
        params["until"] = until.isoformat()
    body = api.get("/api/reports/top-products", params=params).json()
    assert _comparable(body["items"]) == expected.top_products(CHANNEL, since, until)


def test_read_top_products_unknown_channel_is_empty(api):
    body = api.get("/api/reports/top-products", params={"channel": "nobody_here"}).json()
    assert body["items"] == []


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", ""])
def test_read_top_products_bad_limit_is_422(api, limit):
    response = api.get("/api/reports/top-products", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["message"].startswith("limit:")


def test_read_top_products_bad_date_is_422(api):
    response = api.get("/api/reports/top-products", params={"since": "2026-13-01"})
    assert response.status_code == 422
    assert "since" in response.json()["message"]


def test_read_visual_content_matches_the_posts(api, api_warehouse_dsn):
    response = api.get("/api/reports/visual-content")
    assert response.status_code == 200
    (channel,) = response.json()["items"]
    posts = expected.channel_posts(CHANNEL)
    with_image = [p for p in posts if p["image_path"]]
    without_image = [p for p in posts if not p["image_path"]]
    assert channel["channel_name"] == CHANNEL
    assert channel["total_posts"] == len(posts)
    assert channel["image_posts"] == len(with_image)
    # Shares to 4 decimals, averages of views to 2: as the API rounds them.
    assert channel["image_share"] == round(len(with_image) / len(posts), 4)
    assert channel["avg_views_with_image"] == round(statistics.mean(p["views"] for p in with_image), 2)
    if without_image:
        assert channel["avg_views_without_image"] == round(statistics.mean(p["views"] for p in without_image), 2)
    else:
        assert channel["avg_views_without_image"] is None
    with psycopg.connect(api_warehouse_dsn) as conn:
        detections = conn.execute("select message_id, detected_class from raw.image_detections").fetchall()
    categories = expected.image_categories(detections)
    assert categories, "the sample warehouse holds detections"
    assert {c["image_category"]: c["image_count"] for c in channel["categories"]} == {
        category: len(ids) for category, ids in categories.items()
    }
    views = {p["message_id"]: p["views"] for p in posts}
    for category in channel["categories"]:
        ids = categories[category["image_category"]]
        assert category["avg_views"] == round(statistics.mean(views[i] for i in ids), 2)
