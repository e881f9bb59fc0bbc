"""Expectations computed by hand from the bundled sample's lake files, in plain Python (no SQL); products and
prices are the hand labels of sample/extraction_eval."""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
LAKE = PROJECT_DIR / "sample" / "lake"
LEXICON = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds" / "product_lexicon.csv"


@cache
def posts() -> tuple[dict, ...]:
    records = []
    for path in sorted((LAKE / "raw" / "telegram_messages").glob("*/*.json")):
        records.extend(json.loads(path.read_text()))
    for record in records:
        record["posted_at"] = datetime.fromisoformat(record["message_date"])
    return tuple(records)


def channel_posts(channel: str) -> list[dict]:
    return [p for p in posts() if p["channel_name"] == channel]


def daily_activity(channel: str) -> dict[date, dict]:
    days: dict[date, dict] = defaultdict(lambda: Counter())
    for post in channel_posts(channel):
        day = days[post["posted_at"].date()]
        day["post_count"] += 1
        day["total_views"] += post["views"] or 0
        day["total_forwards"] += post["forwards"] or 0
        day["image_post_count"] += bool(post["image_path"])
    return dict(days)


def activity(channel: str, granularity: str, since: date | None = None, until: date | None = None) -> list[dict]:
    """Every period from the first to the last post (clamped to since..until), zero-filled."""
    days = daily_activity(channel)
    start = max(d for d in (since, min(days)) if d)
    stop = min(d for d in (until, max(days)) if d)
    step = timedelta(days=7 if granularity == "week" else 1)
    first = start - timedelta(days=start.weekday()) if granularity == "week" else start
    periods = []
    period = first
    while period <= stop:
        totals = Counter()
        for offset in range(step.days):
            day = period + timedelta(days=offset)
            if start <= day <= stop and day in days:
                totals.update(days[day])
        periods.append({
            "period_start": period.isoformat(),
            "post_count": totals["post_count"],
            "total_views": totals["total_views"],
            "total_forwards": totals["total_forwards"],
            "image_post_count": totals["image_post_count"],
        })
        period += step
    return periods


def words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[^\W_]+", text)]


def matching_posts(query_words: list[str]) -> list[dict]:
    """Posts holding every query word (as a word prefix, for words of 3+ letters)."""
    hits = []
    for post in posts():
        found = words(post["message_text"])
        if all(any(f == w or (len(w) >= 3 and f.startswith(w)) for f in found) for w in query_words):
            hits.append(post)
    return hits


# --- products: the hand labels of the sample's posts (sample/extraction_eval/labels.csv), not the model ---

LABELS = PROJECT_DIR / "sample" / "extraction_eval" / "labels.csv"
SEEDS = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds"
UNSPECIFIED = " (unspecified product)"


@cache
def labelled_mentions() -> dict[tuple[str, int], tuple[dict, ...]]:
    """(channel, message_id) -> the product mentions a person labelled in that post."""
    mentions: dict[tuple[str, int], list[dict]] = defaultdict(list)
    with LABELS.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            mentions[(row["channel_name"], int(row["message_id"]))].append(row)
    return {post: tuple(rows) for post, rows in mentions.items()}


@cache
def product_attributes() -> dict[str, dict]:
    """product_name -> category, brand, type, is_brand_only, from the seeds (what dim_products holds)."""
    attributes = {}
    with (SEEDS / "product_brands.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            attributes[row["brand"] + UNSPECIFIED] = {
                "product_category": row["product_category"], "brand": row["brand"], "product_type": None,
                "is_brand_only": True}
    with (SEEDS / "product_lexicon.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            attributes[row["product_name"]] = {
                "product_category": row["product_category"], "brand": row["brand"] or None,
                "product_type": row["product_type"] or None, "is_brand_only": False}
    return attributes


def priced_mentions(post: dict) -> list[dict]:
    return [
        {"product_name": m["product_name"], "price": float(m["price_birr"]) if m["price_birr"] else None,
         "pack_size": m["pack_size"] or None, "strength": m["strength"] or None,
         "pack_count": int(m["pack_count"]) if m["pack_count"] else None}
        for m in labelled_mentions().get((post["channel_name"], post["message_id"]), ())
    ]


def _variants(rows: list[dict]) -> list[dict]:
    by_size: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        by_size[(row["pack_size"], row["strength"], row["pack_count"])].append(row)
    variants = []
    for (pack_size, strength, pack_count), sized in by_size.items():
        prices = [r["price"] for r in sized if r["price"] is not None]
        variants.append({
            "pack_size": pack_size, "strength": strength, "pack_count": pack_count,
            "mention_count": len({(r["channel_name"], r["message_id"]) for r in sized}),
            "median_price_birr": statistics.median(prices) if prices else None,
        })
    # The API's order: most mentioned first, then by size (nulls last, as PostgreSQL sorts them).
    def order(v: dict) -> tuple:
        return (-v["mention_count"], *((x is None, x) for x in (v["pack_size"], v["strength"], v["pack_count"])))
    return sorted(variants, key=order)


def top_products(channel: str | None = None, since: date | None = None, until: date | None = None) -> list[dict]:
    mentions: dict[str, list[dict]] = defaultdict(list)
    for post in posts():
        day = post["posted_at"].date()
        if (channel and post["channel_name"] != channel) or (since and day < since) or (until and day > until):
            continue
        for mention in priced_mentions(post):
            mentions[mention["product_name"]].append({**post, **mention})
    result = []
    for product, rows in mentions.items():
        prices = [r["price"] for r in rows if r["price"] is not None]
        latest = max((r for r in rows if r["price"] is not None), key=lambda r: (r["posted_at"], r["message_id"]),
                     default=None)
        result.append({
            "product_name": product,
            **product_attributes()[product],
            "mention_count": len({(r["channel_name"], r["message_id"]) for r in rows}),
            "channels": sorted({r["channel_name"] for r in rows}),
            "median_price_birr": statistics.median(prices) if prices else None,
            "latest_price_birr": latest["price"] if latest else None,
            "last_mentioned_at": max(r["posted_at"] for r in rows),
            "variants": _variants(rows),
        })
    return sorted(result, key=lambda r: (-r["mention_count"], r["product_name"]))


# --- image categories: from the detections the warehouse was loaded with (raw.image_detections) ---

ROLES = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds" / "detection_class_roles.csv"


def image_categories(detections: list[tuple[int, str | None]]) -> dict[str, set[int]]:
    """category -> message ids, by the rule of docs/architecture.md on (message_id, detected_class) rows: promotional = person
    and product, product_display = product only, lifestyle = person only, other = neither."""
    with ROLES.open(newline="", encoding="utf-8") as f:
        roles = {r["detected_class"].lower(): r["role"] for r in csv.DictReader(f)}
    seen: dict[int, set[str]] = defaultdict(set)
    for message_id, detected_class in detections:
        found = seen[message_id]
        if detected_class:
            found.add(roles.get(detected_class.lower(), "other"))
    categories: dict[str, set[int]] = defaultdict(set)
    for message_id, found in seen.items():
        if "person" in found and "product" in found:
            categories["promotional"].add(message_id)
        elif "product" in found:
            categories["product_display"].add(message_id)
        elif "person" in found:
            categories["lifestyle"].add(message_id)
        else:
            categories["other"].add(message_id)
    return dict(categories)
