"""Has a channel gone quiet? Pure logic on the raw layer; health_check's `check_freshness` task alerts on it.

For each channel in raw.telegram_messages: its last post (max message_date), its last scrape (max scraped_at)
and whether it usually posts daily: it posted on at least `min_active_share` of the `window_days` UTC days
before the day of its last post. A channel that usually posts daily and whose last post is more than
`max_silence_hours` old is stale. A channel that posts weekly, or has too little history, is never stale:
its silences are normal.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import psycopg

DEFAULT_MAX_SILENCE_HOURS = 48.0
DEFAULT_WINDOW_DAYS = 30
DEFAULT_MIN_ACTIVE_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class FreshnessSettings:
    max_silence_hours: float = DEFAULT_MAX_SILENCE_HOURS
    window_days: int = DEFAULT_WINDOW_DAYS
    min_active_share: float = DEFAULT_MIN_ACTIVE_SHARE

    def __post_init__(self):
        if self.max_silence_hours <= 0 or self.window_days <= 0 or not 0 < self.min_active_share <= 1:
            raise ValueError(f"invalid freshness settings: {self}")


@dataclasses.dataclass(frozen=True)
class ChannelFreshness:
    channel: str
    last_post: datetime
    last_scrape: datetime | None
    silent_hours: float  # hours from the last post to `now`
    active_days: int  # days with at least one post among the window_days days before the last post's day
    window_days: int
    active_share: float  # active_days / window_days
    usually_daily: bool
    stale: bool

    @property
    def last_post_iso(self) -> str:
        """The last post in UTC, ISO 8601: the same instant always gives the same text (the alert's key)."""
        return self.last_post.astimezone(UTC).isoformat()

    def as_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["last_post"] = self.last_post_iso
        values["last_scrape"] = self.last_scrape.astimezone(UTC).isoformat() if self.last_scrape else None
        return values

    def describe(self) -> str:
        scrape = f"{self.last_scrape.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.last_scrape else "never"
        return (f"{self.channel}: last post {self.last_post.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
                f"({self.silent_hours:.1f} h ago), last scrape {scrape}, posted on {self.active_days}/"
                f"{self.window_days} days before it ({self.active_share:.0%}), "
                f"usually daily: {'yes' if self.usually_daily else 'no'}, {'STALE' if self.stale else 'fresh'}")


_QUERY = """
with last as (
    select channel_name, max(message_date) as last_post, max(scraped_at) as last_scrape
    from raw.telegram_messages
    group by channel_name
)
select l.channel_name, l.last_post, l.last_scrape,
       (select count(distinct (m.message_date at time zone 'UTC')::date)
          from raw.telegram_messages m
         where m.channel_name = l.channel_name
           and (m.message_date at time zone 'UTC')::date
               between (l.last_post at time zone 'UTC')::date - %(window)s
                   and (l.last_post at time zone 'UTC')::date - 1) as active_days
from last l
order by l.channel_name
"""


def channel_freshness(conn: psycopg.Connection, now: datetime,
                      config: FreshnessSettings | None = None) -> list[ChannelFreshness]:
    """Every channel's numbers at `now` (an aware datetime; a naive one is taken as UTC), by channel name."""
    config = config or FreshnessSettings()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    rows = conn.execute(_QUERY, {"window": config.window_days}).fetchall()
    results = []
    for channel, last_post, last_scrape, active_days in rows:
        silent_hours = (now - last_post).total_seconds() / 3600
        share = active_days / config.window_days
        usually_daily = share >= config.min_active_share
        results.append(ChannelFreshness(
            channel=channel, last_post=last_post, last_scrape=last_scrape, silent_hours=round(silent_hours, 2),
            active_days=active_days, window_days=config.window_days, active_share=round(share, 4),
            usually_daily=usually_daily, stale=usually_daily and silent_hours > config.max_silence_hours,
        ))
    return results
