"""A stand-in for the part of Telethon's TelegramClient the scraper uses, serving real posts.

Telegram's servers cannot be reached from the test machines, so this is the one mock of the scraper tests.
It yields Telethon's own `telethon.tl.types.Message` objects (with `MessageMediaPhoto`, `PeerChannel`,
`MessageReplies`, `MessageFwdHeader`, `MessageReplyHeader`), built from the 100 real posts of
@lobelia4cosmetics bundled in sample/lake, and serves the real photos from sample/lake/raw/images.

What the sample does not hold is made up and marked so: posts sharing a timestamp form an album (one
grouped_id), one post is a forward, one a reply, one is signed, and a pinned-message service message
follows the newest post. Faults (flood waits, network errors, a hang to be killed) are injected per channel.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from telethon import errors
from telethon.tl import types

from medical_telegram import lake

PROJECT_DIR = Path(__file__).resolve().parents[3]
SAMPLE_LAKE = PROJECT_DIR / "sample" / "lake"
SAMPLE_CHANNEL = "lobelia4cosmetics"
SAMPLE_CHANNEL_ID = 1000000001
HANG_MARKER = "STANDIN-HANGING"
# The sample's newest post is 2026-01-18T12:58:53Z: the tests' "now" is the sample's scrape time.
SAMPLE_NOW = datetime(2026, 1, 18, 13, 0, tzinfo=UTC)

FORWARDED_ID, REPLY_ID, SIGNED_ID = 22850, 22852, 22855  # made-up traits on real posts
FORWARD_SOURCE_ID = 1234567890


def sample_posts() -> list[dict]:
    posts = []
    for path in sorted((SAMPLE_LAKE / "raw" / "telegram_messages").glob(f"*/{SAMPLE_CHANNEL}.json")):
        posts.extend(orjson.loads(path.read_bytes()))
    return sorted(posts, key=lambda p: p["message_id"])


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def photo_media(message_id: int, date: datetime) -> types.MessageMediaPhoto:
    sizes = [
        types.PhotoStrippedSize(type="i", bytes=b"\x01\x28\x1e" + bytes(20)),
        types.PhotoSize(type="m", w=240, h=320, size=11_000),
        types.PhotoSizeProgressive(type="y", w=960, h=1280, sizes=[9_000, 40_000, 110_000]),
    ]
    photo = types.Photo(id=5_000_000_000_000 + message_id, access_hash=-(7_000_000 + message_id),
                        file_reference=b"\x02" + message_id.to_bytes(8, "big"), date=date, sizes=sizes, dc_id=4)
    return types.MessageMediaPhoto(photo=photo)


def video_media(message_id: int, date: datetime) -> types.MessageMediaDocument:
    document = types.Document(
        id=6_000_000_000_000 + message_id, access_hash=1, file_reference=b"\x03", date=date, mime_type="video/mp4",
        size=2_000_000, dc_id=4, attributes=[types.DocumentAttributeVideo(duration=12.5, w=640, h=360),
                                             types.DocumentAttributeFilename(file_name="promo.mp4")])
    return types.MessageMediaDocument(document=document, video=True)


def album_ids(posts: list[dict]) -> dict[int, int]:
    """message_id → grouped_id for runs of consecutive posts with one timestamp (made up: the sample has none)."""
    grouped: dict[int, int] = {}
    run: list[dict] = []
    for post in [*posts, None]:
        # Telegram albums hold at most 10 items.
        if run and (post is None or post["message_date"] != run[0]["message_date"] or len(run) == 10):
            if len(run) > 1:
                for member in run:
                    grouped[member["message_id"]] = 13_900_000_000_000_000 + run[0]["message_id"]
            run = []
        if post is not None:
            run.append(post)
    return grouped


def build_messages(posts: list[dict], channel_id: int, *, traits: bool = True) -> list[Any]:
    albums = album_ids(posts)
    messages: list[Any] = []
    for post in posts:
        mid, date = post["message_id"], _instant(post["message_date"])
        message = types.Message(
            id=mid, peer_id=types.PeerChannel(channel_id), date=date, message=post["message_text"], post=True,
            views=post["views"], forwards=post["forwards"],
            replies=types.MessageReplies(replies=0, replies_pts=mid),
            media=photo_media(mid, date) if post["has_media"] else None,
            grouped_id=albums.get(mid),
        )
        if traits and mid == FORWARDED_ID:
            message.fwd_from = types.MessageFwdHeader(date=date, from_id=types.PeerChannel(FORWARD_SOURCE_ID),
                                                      channel_post=77)
        if traits and mid == REPLY_ID:
            message.reply_to = types.MessageReplyHeader(reply_to_msg_id=REPLY_ID - 1)
        if traits and mid == SIGNED_ID:
            message.post_author = "Lobelia Pharmacist"
        messages.append(message)
    if traits and messages:
        last = messages[-1]
        messages.append(types.MessageService(
            id=last.id + 1, peer_id=types.PeerChannel(channel_id), date=last.date, post=True,
            action=types.MessageActionPinMessage(), reply_to=types.MessageReplyHeader(reply_to_msg_id=last.id)))
    return messages


@dataclass
class Fault:
    after: int  # raise after this many messages were yielded by one iter_messages call
    error: BaseException | None  # None: hang (print HANG_MARKER and sleep) so the test can kill the process
    reverse: bool | None = None  # only in this direction (True: new messages, False: the refresh)


@dataclass
class StandinChannel:
    name: str
    channel_id: int
    title: str
    messages: list[Any]
    visible_up_to: int | None = None  # newer messages are "not posted yet"
    faults: list[Fault] = field(default_factory=list)

    def entity(self) -> types.Channel:
        return types.Channel(id=self.channel_id, title=self.title, photo=types.ChatPhotoEmpty(),
                             date=datetime(2020, 1, 1, tzinfo=UTC), broadcast=True, username=self.name,
                             access_hash=99_000 + self.channel_id)

    def message(self, message_id: int) -> Any:
        return next(m for m in self.messages if m.id == message_id)


class StandinClient:
    """`get_entity`, `iter_messages`, `download_media`, `connect`, `is_user_authorized`, `disconnect`."""

    def __init__(self, channels: list[StandinChannel], *, private: tuple[str, ...] = (),
                 renamed: tuple[str, ...] = (),
                 images_dir: Path = SAMPLE_LAKE / "raw" / "images" / SAMPLE_CHANNEL) -> None:
        self.channels = {c.name: c for c in channels}
        self.private = set(private)
        self.renamed = set(renamed)
        self.images_dir = images_dir
        self.calls: list[tuple] = []
        self.downloads: list[int] = []
        self.connected = False

    async def connect(self) -> None:
        self.connected = True

    async def is_user_authorized(self) -> bool:
        return True

    async def disconnect(self) -> None:
        self.connected = False

    async def get_entity(self, name: str) -> types.Channel:
        self.calls.append(("get_entity", name))
        if name in self.private:
            raise errors.ChannelPrivateError(request=None)
        if name in self.renamed:
            raise errors.UsernameNotOccupiedError(request=None)
        if name not in self.channels:
            raise ValueError(f'No user has "{name}" as username')  # what Telethon raises
        return self.channels[name].entity()

    async def iter_messages(self, entity: types.Channel, limit: int | None = None, *, min_id: int = 0,
                            max_id: int = 0, reverse: bool = False, **unsupported: Any) -> AsyncIterator[Any]:
        if unsupported:
            raise TypeError(f"the stand-in does not implement {sorted(unsupported)}")
        self.calls.append(("iter_messages", entity.username, min_id, max_id, reverse, limit))
        channel = self.channels[entity.username]
        chosen = [m for m in channel.messages
                  if m.id > min_id and (not max_id or m.id < max_id)
                  and (channel.visible_up_to is None or m.id <= channel.visible_up_to)]
        chosen.sort(key=lambda m: m.id, reverse=not reverse)
        for count, message in enumerate(chosen[:limit] if limit is not None else chosen):
            for fault in list(channel.faults):
                if fault.after == count and fault.reverse in (None, reverse):
                    channel.faults.remove(fault)
                    if fault.error is None:
                        print(HANG_MARKER, file=sys.stderr, flush=True)
                        await asyncio.sleep(3600)
                    raise fault.error
            yield message

    async def download_media(self, message: types.Message, file: str | None = None, **kwargs: Any) -> str:
        # No `thumb` argument means Telethon downloads the largest size; the scraper must ask for that.
        assert "thumb" not in kwargs, kwargs
        self.downloads.append(message.id)
        if isinstance(message.media, types.MessageMediaDocument):
            Path(file).write_bytes(b"\x00\x00\x00\x18ftypmp42 stand-in video")
            return file
        assert isinstance(message.media, types.MessageMediaPhoto)
        shutil.copyfile(self.images_dir / f"{message.id}.jpg", file)
        return file


def sample_channel(**kwargs: Any) -> StandinChannel:
    posts = sample_posts()
    return StandinChannel(SAMPLE_CHANNEL, SAMPLE_CHANNEL_ID, posts[0]["channel_title"],
                          build_messages(posts, SAMPLE_CHANNEL_ID), **kwargs)


def other_channel(name: str = "chemed123", count: int = 30) -> StandinChannel:
    """A second good channel: the first `count` real posts under another channel (no made-up traits)."""
    posts = sample_posts()[:count]
    return StandinChannel(name, 1000000002, "CheMed", build_messages(posts, 1000000002, traits=False))


def lake_records(root: Path, channel: str = "lobelia4cosmetics") -> list[dict]:
    """Every record of a channel in the lake, in file order (duplicates would show twice)."""
    found = []
    for path in sorted((root / lake.MESSAGES_DIR).glob(f"*/{channel}.json")):
        found.extend(orjson.loads(path.read_bytes()))
    return found


def state_of(root: Path, channel: str = "lobelia4cosmetics") -> dict:
    return orjson.loads((root / "state" / "scraper" / f"{channel}.json").read_bytes())
