"""Expectations computed by hand from the bundled sample's lake files, in plain Python (no SQL)."""

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


# --- products: the lexicon's aliases matched on lower-cased text with sizes and pack counts removed ---

_SIZE = re.compile(r"(?<![a-z0-9.,])\d+(?:[.,]\d+)?\s*(?:mg|mcg|g|gm|kg|ml|l|%)(?![a-z0-9])")
_COUNT = re.compile(r"(?<![a-z0-9.,])\d+\s*(?=(?:pcs|tablets?|softgels?|gummies|chewing|chewable|liquid gels?)\b)")
_PRICE = re.compile(r"price\s*[:\-]?\s*(\d[\d,]*)")


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("&", " and ")
    text = _COUNT.sub("", _SIZE.sub(" ", text))
    text = re.sub(r"[ \t]*\+[ \t]*", "+", text)
    text = re.sub(r"(?<![a-z])omega[ -]?3", "omega3", text)
    return re.sub(r"[ \t]+", " ", text).strip()


@cache
def lexicon() -> dict[str, tuple[str, str]]:
    with LEXICON.open(newline="", encoding="utf-8") as f:
        return {normalise(r["alias"]): (r["product_name"], r["product_category"]) for r in csv.DictReader(f)}


@cache
def product_pattern() -> re.Pattern:
    # One alternation, longest alias first, matched left to right without overlaps.
    aliases = sorted(lexicon(), key=lambda a: (-len(a), a))
    return re.compile(rf"(?<![a-z0-9])({'|'.join(map(re.escape, aliases))})(?![a-z0-9])")


def mentioned_products(text: str) -> list[tuple[str, str]]:
    """(product_name, category) of every product named in the text, once each, in order of first mention."""
    found: dict[str, str] = {}
    for match in product_pattern().finditer(normalise(text)):
        product, category = lexicon()[match.group(1)]
        found.setdefault(product, category)
    return list(found.items())


def prices(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in _PRICE.findall(text.lower())]


def priced_mentions(text: str) -> list[tuple[str, str, float | None]]:
    """One product: the post's first price. n products and n prices: paired in order. Else no price."""
    products, amounts = mentioned_products(text), prices(text)
    if len(products) == 1:
        return [(*products[0], amounts[0] if amounts else None)]
    if len(products) == len(amounts):
        return [(*product, amount) for product, amount in zip(products, amounts, strict=True)]
    return [(*product, None) for product in products]


def top_products(channel: str | None = None, since: date | None = None, until: date | None = None) -> list[dict]:
    mentions: dict[str, list[dict]] = defaultdict(list)
    categories = {}
    for post in posts():
        day = post["posted_at"].date()
        if (channel and post["channel_name"] != channel) or (since and day < since) or (until and day > until):
            continue
        for product, category, price in priced_mentions(post["message_text"]):
            categories[product] = category
            mentions[product].append({**post, "price": price})
    result = []
    for product, rows in mentions.items():
        prices = [r["price"] for r in rows if r["price"] is not None]
        latest = max((r for r in rows if r["price"] is not None), key=lambda r: (r["posted_at"], r["message_id"]),
                     default=None)
        result.append({
            "product_name": product,
            "product_category": categories[product],
            "mention_count": len({(r["channel_name"], r["message_id"]) for r in rows}),
            "channels": sorted({r["channel_name"] for r in rows}),
            "median_price_birr": statistics.median(prices) if prices else None,
            "latest_price_birr": latest["price"] if latest else None,
            "last_mentioned_at": max(r["posted_at"] for r in rows),
        })
    return sorted(result, key=lambda r: (-r["mention_count"], r["product_name"]))


# --- image categories: from the detections the warehouse was loaded with (raw.image_detections) ---

ROLES = PROJECT_DIR / "include" / "dbt" / "medical_warehouse" / "seeds" / "detection_class_roles.csv"


def image_categories(detections: list[tuple[int, str | None]]) -> dict[str, set[int]]:
    """category -> message ids, by DESIGN.md's rule on (message_id, detected_class) rows: promotional = person
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
