"""The lake record: its fields, and the validation every writer and the loader apply (a bad record is
refused with the field it fails on; what can be repaired without guessing, a NUL character, is)."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


SOURCES = ("telethon", "desktop_export")
# Telegram usernames are 5..32 characters; derived names of exports may be longer, so allow up to 64.
# Always use fullmatch: with match() and "$", "name\n" would pass.
CHANNEL_NAME_RE = re.compile(r"[a-z0-9_]{1,64}")
MAX_INT = 2**63 - 1  # bigint
MAX_INT32 = 2**31 - 1  # integer columns (views, forwards, replies)


class RecordError(ValueError):
    """A record that breaks the contract; the message names the field and why."""


@dataclasses.dataclass(slots=True)
class MessageRecord:
    channel_name: str
    message_id: int
    message_date: str
    # None where the lake that held the post does not say (another implementation's lake): never guessed
    scraped_at: str | None = None
    source: str | None = None
    channel_title: str | None = None
    message_text: str = ""
    views: int | None = None
    forwards: int | None = None
    replies: int | None = None
    edit_date: str | None = None
    post_author: str | None = None
    grouped_id: int | None = None
    reply_to_message_id: int | None = None
    forwarded_from: str | None = None
    has_media: bool = False
    media_type: str | None = None
    image_path: str | None = None
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in RECORD_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageRecord:
        """Validate a lake record; raise RecordError naming the first bad field."""
        if not isinstance(data, Mapping):
            raise RecordError(f"record is a {type(data).__name__}, not an object")
        unknown = data.keys() - _FIELD_SET
        if unknown:
            raise RecordError(f"unknown field(s): {', '.join(sorted(unknown))}")
        if (record := _plain_record(data)) is not None:
            return record
        values = {}
        for name, check in _CHECKS.items():
            value = data.get(name)
            if value is None:
                if name in _REQUIRED_SET:
                    missing = [f for f in REQUIRED_FIELDS if data.get(f) in (None, "")]
                    raise RecordError(f"missing required field(s): {', '.join(missing)}")
                if name in _NOT_NULL and name in data:
                    check(name, value)  # raises, naming the field
                continue  # the field's default: None, "" for message_text, False for has_media
            values[name] = check(name, value)
        if "raw" not in data:
            # A lake that keeps no source message (another implementation's): the record as it came is it,
            # so what it said (a scraped_at without an offset, no source) is kept as it was.
            values["raw"] = dict(data)
        for name in REQUIRED_FIELDS:
            if values[name] == "":
                raise RecordError(f"missing required field(s): {name}")
        return cls(**values)


RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(MessageRecord))
REQUIRED_FIELDS = ("channel_name", "message_id", "message_date")
_FIELD_SET = frozenset(RECORD_FIELDS)
_REQUIRED_SET = frozenset(REQUIRED_FIELDS)
_NOT_NULL = frozenset({"has_media", "raw"})
# Fields a later record may not know (a Desktop export has no views, forwards or replies): an unknown value
# never overwrites a known one, in the lake or in the warehouse.
KEEP_WHEN_MISSING = frozenset({"channel_title", "views", "forwards", "replies", "edit_date", "post_author",
                               "media_type", "image_path", "forwarded_from"})


def _text(name: str, value: Any, *, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{name} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise RecordError(f"{name} contains a NUL character, which PostgreSQL text cannot hold")
    return value


def _int(name: str, value: Any, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{name} must be an integer, got {type(value).__name__} {value!r:.40}")
    if not minimum <= value <= maximum:
        raise RecordError(f"{name} out of range ({minimum}..{maximum}): {value}")
    return value


def _int32(name: str, value: Any) -> int | None:
    return _int(name, value, maximum=MAX_INT32)


def _instant(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _text(name, value)
    canonical = canonical_instant(text)
    if canonical.startswith("!"):
        raise RecordError(f"{name} {canonical[1:]}: {text!r:.40}")
    return canonical


_CANONICAL_INSTANT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?\+00:00")


@functools.lru_cache(maxsize=1024)
def canonical_instant(text: str) -> str:
    """The instant in one canonical form (every ISO variant Python accepts, such as week dates or the basic
    format, reaches PostgreSQL as a form it reads the same way), or "!" and why it is not one.

    Cached: the records of a file mostly share their scraped_at.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return "!is not a valid ISO-8601 timestamp"
    if parsed.tzinfo is None:
        return "!has no UTC offset"
    if _CANONICAL_INSTANT_RE.fullmatch(text) and not text.endswith(".000000+00:00"):
        return text  # what utc_iso() writes: the common case, and formatting it again costs more than this
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:
        return "!is out of range in UTC"


def _channel(name: str, value: Any) -> str:
    # Telegram usernames ignore case: another implementation's lake writes "EAHCI" for @eahci.
    text = _text(name, value, nullable=False).lower()
    if not CHANNEL_NAME_RE.fullmatch(text):
        raise RecordError(f"{name} must be a lower-case Telegram username ([a-z0-9_]), got {text!r:.40}")
    return text


def _source(name: str, value: Any) -> str | None:
    if value is None:
        return None  # another implementation's lake does not say
    if value not in SOURCES:
        raise RecordError(f"{name} must be one of {', '.join(SOURCES)}, got {value!r:.40}")
    return value


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RecordError(f"{name} must be true or false, got {type(value).__name__}")
    return value


_WINDOWS_LAKE_PATH_RE = re.compile(r"(?:^|[\\/])(raw[\\/]images[\\/][^\\/]+[\\/][^\\/]+)$")


def _image_path(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is not None and "\\" in text:
        # Another implementation's lake on Windows: "data\raw\images\EAHCI\3085.jpg" points into the lake's
        # layout and is read as that lake path; anything else ("C:\Users\...") names no photo of the lake.
        found = _WINDOWS_LAKE_PATH_RE.search(text)
        return found.group(1).replace("\\", "/") if found else None
    if text is not None and (text.startswith("/") or ".." in text.split("/")):
        raise RecordError(f"{name} must be relative to the lake with POSIX slashes, got {text!r:.60}")
    return text


def _scrape_instant(name: str, value: Any) -> str | None:
    """When the post was scraped; None where the lake does not say, or says it without a UTC offset (a local
    clock of unknown zone: guessing one could order the record after a later scrape)."""
    if isinstance(value, str) and canonical_instant(value) == "!has no UTC offset":
        return None
    return _instant(name, value)


def _raw(name: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise RecordError(f"{name} must be an object, got {type(value).__name__}")
    return value


_CHECKS = {
    "channel_name": _channel,
    "channel_title": _text,
    "message_id": lambda n, v: _int(n, v, minimum=1),
    "message_date": _instant,
    "message_text": lambda n, v: _text(n, v) or "",
    "views": _int32,
    "forwards": _int32,
    "replies": _int32,
    "edit_date": _instant,
    "post_author": _text,
    "grouped_id": lambda n, v: _int(n, v, minimum=-MAX_INT),
    "reply_to_message_id": _int,
    "forwarded_from": _text,
    "has_media": _bool,
    "media_type": _text,
    "image_path": _image_path,
    "scraped_at": _scrape_instant,
    "source": _source,
    "raw": _raw,
}


def strip_nul(value: Any) -> tuple[Any, int]:
    """`value` (a JSON value) without NUL characters, and how many were removed.

    PostgreSQL's text and jsonb cannot hold U+0000. It carries no meaning in a post, so it is dropped and the
    post kept; the count goes to the load's figures, so nothing is changed silently.
    """
    if isinstance(value, str):
        count = value.count("\x00")
        return (value.replace("\x00", ""), count) if count else (value, 0)
    if isinstance(value, dict):
        total, cleaned = 0, {}
        for key, item in value.items():
            key, removed_in_key = strip_nul(key)
            cleaned[key], removed = strip_nul(item)
            total += removed_in_key + removed
        return (cleaned, total) if total else (value, 0)
    if isinstance(value, list):
        total, cleaned_list = 0, []
        for item in value:
            item, removed = strip_nul(item)
            cleaned_list.append(item)
            total += removed
        return (cleaned_list, total) if total else (value, 0)
    return value, 0


class ImageError(ValueError):
    """A file that is not a decodable image."""


def check_image(path: Path) -> None:
    """Raise ImageError unless `path` decodes as a JPEG from start to end.

    The magic bytes are not enough: a valid header with garbage after it passes them. Pillow decodes the
    whole entropy-coded stream (at 1/8 scale, so it is fast) and fails on a broken or truncated one.
    """
    from PIL import Image, UnidentifiedImageError  # the loader never needs Pillow: import on use

    try:
        with Image.open(path) as image:
            if image.format != "JPEG":
                raise ImageError(f"not a JPEG image ({image.format or 'unknown format'})")
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except UnidentifiedImageError:
        raise ImageError("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(f"does not decode: {exc}") from None


def is_plain_lake_path(path: str) -> bool:
    """Whether an image_path is already what _image_path would keep unchanged: relative, POSIX slashes, no "..".
    """
    return "\\" not in path and not path.startswith("/") and ".." not in path.split("/")


_PLAIN_TEXT = ("channel_title", "post_author", "forwarded_from", "media_type")
_PLAIN_INT32 = ("views", "forwards", "replies")


def _plain_record(data: Mapping[str, Any]) -> MessageRecord | None:
    """The record, when every field has the plain form the scraper and the importer write; None otherwise.

    The loader validates every record, so the common case is checked inline, without a call per field. It
    accepts nothing the field checks (_CHECKS) would refuse: anything unusual returns None and goes through
    them, and they accept it or say what is wrong.
    """
    if type(data) is not dict or not data.keys() <= _FIELD_SET:
        return None
    get = data.get
    channel, message_id, source = get("channel_name"), get("message_id"), get("source")
    if (type(channel) is not str or not CHANNEL_NAME_RE.fullmatch(channel) or type(message_id) is not int
            or not 1 <= message_id <= MAX_INT or source not in SOURCES):
        return None
    for name in _PLAIN_TEXT:
        value = get(name)
        if value is not None and (type(value) is not str or "\x00" in value):
            return None
    for name in _PLAIN_INT32:
        value = get(name)
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_INT32):
            return None
    grouped, reply_to = get("grouped_id"), get("reply_to_message_id")
    if (grouped is not None and (type(grouped) is not int or not -MAX_INT <= grouped <= MAX_INT)
            or reply_to is not None and (type(reply_to) is not int or not 0 <= reply_to <= MAX_INT)):
        return None
    has_media, raw, text, image_path = get("has_media"), get("raw"), get("message_text"), get("image_path")
    if type(has_media) is not bool or type(raw) is not dict:
        return None
    if text is None:
        text = ""
    elif type(text) is not str or "\x00" in text:
        return None
    if image_path is not None and (type(image_path) is not str or "\x00" in image_path
                                   or not is_plain_lake_path(image_path)):
        return None
    message_date, scraped_at, edit_date = get("message_date"), get("scraped_at"), get("edit_date")
    if type(message_date) is not str or type(scraped_at) is not str or (edit_date is not None
                                                                        and type(edit_date) is not str):
        return None
    message_date, scraped_at = canonical_instant(message_date), canonical_instant(scraped_at)
    edit_date = canonical_instant(edit_date) if edit_date is not None else None
    if message_date[0] == "!" or scraped_at[0] == "!" or (edit_date is not None and edit_date[0] == "!"):
        return None
    return MessageRecord(channel, message_id, message_date, scraped_at, source, get("channel_title"), text,
                         get("views"), get("forwards"), get("replies"), edit_date, get("post_author"), grouped,
                         reply_to, get("forwarded_from"), has_media, get("media_type"), image_path, raw)
