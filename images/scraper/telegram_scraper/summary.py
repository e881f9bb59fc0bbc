"""What a run did, per channel and in total; printed as ONE JSON line, the last line on stdout, which
DockerOperator pushes to XCom."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

COUNTS = ("messages", "new", "updated", "unchanged", "skipped", "images", "photos_failed", "photos_given_up",
          "nul_stripped", "errors")


@dataclasses.dataclass
class ChannelResult:
    channel: str
    status: str = "ok"  # ok | failed
    messages: int = 0  # messages read from Telegram and written or compared (new + refreshed)
    new: int = 0  # not in the lake before
    updated: int = 0  # in the lake, with a field that changed (views, forwards, text, edit date...)
    unchanged: int = 0
    skipped: int = 0  # service messages (joins, pins): not posts, only advance the high-water mark
    images: int = 0  # photos downloaded this run (existing ones are not downloaded again)
    # Photos not downloaded or not decodable (quarantined): their posts are kept without them, and the
    # high-water mark stays below the first one, so the next run tries it again (see scraper.PHOTO_ATTEMPTS).
    photos_failed: int = 0
    photos_given_up: int = 0  # of those, photos that failed in every allowed run: the post stays without one
    nul_stripped: int = 0  # NUL characters dropped from texts and source records (PostgreSQL cannot hold them)
    errors: int = 0
    error_messages: list[str] = dataclasses.field(default_factory=list)
    last_message_id: int = 0  # the high-water mark after the run
    flood_wait_s: float = 0

    def add_photo_failure(self, message: str) -> None:
        """A photo that did not make it: reported, but the channel's posts are all there."""
        self.photos_failed += 1
        self.error_messages.append(message)

    def add_error(self, message: str, *, fatal: bool = False) -> None:
        self.errors += 1
        self.error_messages.append(message)
        if fatal:
            self.status = "failed"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class RunSummary:
    channels: list[ChannelResult]
    command: str = "scrape"

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" and r.errors == 0 for r in self.channels)

    @property
    def failed(self) -> list[str]:
        return [r.channel for r in self.channels if r.status != "ok"]

    def as_dict(self) -> dict[str, Any]:
        totals: dict[str, Any] = {name: sum(getattr(r, name) for r in self.channels) for name in COUNTS}
        totals["channels"] = len(self.channels)
        totals["failed_channels"] = len(self.failed)
        return {
            "command": self.command,
            "ok": self.ok,
            "channels": {r.channel: {k: v for k, v in r.as_dict().items() if k != "channel"}
                         for r in self.channels},
            "totals": totals,
            "failed": self.failed,
        }

    def json_line(self) -> str:
        return orjson.dumps(self.as_dict()).decode()
