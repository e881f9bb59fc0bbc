"""Response models, named for what they expose."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]
    warehouse: Literal["reachable"]


class Problem(BaseModel):
    detail: str


UNAVAILABLE = {503: {"model": Problem, "description": "the warehouse is unreachable or not built yet"}}


class Channel(BaseModel):
    channel_name: str
    channel_title: str | None
    channel_type: str | None
    first_post_date: date | None
    last_post_date: date | None
    total_posts: int
    avg_views: float | None


class ChannelList(BaseModel):
    items: list[Channel]


class ProductVariant(BaseModel):
    pack_size: str | None = Field(description='volume or weight, e.g. "400 ml", "2.2 kg"')
    strength: str | None = Field(description='dose per unit, e.g. "500 mg"')
    pack_count: int | None = Field(description="units in the pack (tablets, gummies, ...)")
    mention_count: int = Field(description="posts that mention the product in this size")
    median_price_birr: float | None = Field(description="median of the prices quoted for this size")


class ProductStats(BaseModel):
    product_name: str
    product_category: str | None
    brand: str | None = Field(description="the product's brand; null for a generic product (Paracetamol)")
    product_type: str | None = Field(description="what kind of product: Body Lotion, Cleanser, Tablets, ...")
    is_brand_only: bool = Field(description='the posts name the brand but not which product ("Nivea (unspecified product)")')
    mention_count: int = Field(description="posts that mention the product")
    channel_count: int
    channels: list[str] = Field(description="channels that mention it, by name")
    median_price_birr: float | None = Field(description="median of the prices quoted with a mention")
    latest_price_birr: float | None = Field(description="the price quoted by the most recent mention with one")
    last_mentioned_at: datetime
    variants: list[ProductVariant] = Field(description="per size, strength and pack count: mentions and median price")


class TopProducts(BaseModel):
    items: list[ProductStats]
    limit: int
    channel: str | None
    since: date | None
    until: date | None


class ActivityPeriod(BaseModel):
    period_start: date
    post_count: int
    total_views: int
    total_forwards: int
    image_post_count: int


class ChannelActivity(BaseModel):
    channel_name: str
    granularity: Literal["day", "week"]
    since: date | None
    until: date | None
    periods: list[ActivityPeriod]


class ProductMatch(BaseModel):
    product_name: str
    matched_text: str = Field(description='the words of the post recognised as the product, e.g. "Panadol"')
    evidence: str = Field(description="the post's item the product and its price were read from, as posted")
    price_birr: float | None


class MessageHit(BaseModel):
    channel_name: str
    message_id: int
    posted_at: datetime
    view_count: int | None
    rank: float
    snippet: str = Field(description="the matching passage, matched words wrapped in <mark>…</mark> (text is not HTML-escaped)")
    matched_by: list[Literal["text", "product"]] = Field(
        description='how the post matched: "text" (its words), "product" (a product it mentions, by name: a search'
                    ' for "paracetamol" finds "Panadol 500mg"), or both')
    products: list[ProductMatch] = Field(description="the products the post mentions whose name matched the query")


class ProductMention(BaseModel):
    channel_name: str
    message_id: int
    posted_at: datetime
    product_name: str
    price_birr: float | None
    is_price_on_request: bool
    pack_size: str | None
    strength: str | None
    pack_count: int | None
    dosage_form: str | None
    matched_text: str = Field(description="the words recognised as the product")
    evidence: str = Field(description="the line or block of the post the product and its price were read from")


class ProductMentions(BaseModel):
    product_name: str
    items: list[ProductMention] = Field(description="the newest mentions first")
    limit: int
    channel: str | None


class MessageSearch(BaseModel):
    query: str
    items: list[MessageHit]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


class CategoryStats(BaseModel):
    image_category: str
    image_count: int
    avg_views: float | None


class ChannelVisualContent(BaseModel):
    channel_name: str
    total_posts: int
    image_posts: int
    image_share: float = Field(description="image_posts / total_posts, 0..1")
    avg_views_with_image: float | None
    avg_views_without_image: float | None
    categories: list[CategoryStats]


class VisualContent(BaseModel):
    items: list[ChannelVisualContent]
