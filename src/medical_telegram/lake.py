"""The data lake: the message record, where files live, atomic merged writes and the quarantine.

The record is defined here once; the scraper, the export importer and the loader all use it.
Layout under DATA_LAKE_DIR (default ./data):

    raw/telegram_messages/YYYY-MM-DD/<channel>.json   one channel's messages of one UTC day, a JSON array
    raw/images/<channel>/<message_id>.jpg
    enriched/detections/...
    quarantine/...                                     what could not be read, each beside a note saying why
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

MESSAGES_DIR = "raw/telegram_messages"
IMAGES_DIR = "raw/images"
DETECTIONS_DIR = "enriched/detections"
QUARANTINE_DIR = "quarantine"

SOURCES = ("telethon", "desktop_export")
# Telegram usernames are 5..32 characters; derived names of exports may be longer, so allow up to 64.
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_]{1,64}$")
_MAX_INT = 2**63 - 1
_UMASK = os.umask(0)
os.umask(_UMASK)


def lake_dir() -> Path:
    return Path(os.environ.get("DATA_LAKE_DIR", "data")).resolve()


class RecordError(ValueError):
    """A record that breaks the contract; the message names the field and why."""


@dataclasses.dataclass(slots=True)
class MessageRecord:
    channel_name: str
    message_id: int
    message_date: str
    scraped_at: str
    source: str
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
        values = {}
        for name, check in _CHECKS.items():
            value = data.get(name)
            if value is None:
                if name in _REQUIRED_SET:
                    missing = [f for f in REQUIRED_FIELDS if data.get(f) in (None, "")]
                    raise RecordError(f"missing required field(s): {', '.join(missing)}")
                if name in _NOT_NULL:
                    check(name, value)  # raises, naming the field
                continue  # the field's default: None, or "" for message_text
            values[name] = check(name, value)
        for name in REQUIRED_FIELDS:
            if values[name] == "":
                raise RecordError(f"missing required field(s): {name}")
        return cls(**values)


RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(MessageRecord))
REQUIRED_FIELDS = ("channel_name", "message_id", "message_date", "scraped_at", "source")
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


def _int(name: str, value: Any, *, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{name} must be an integer, got {type(value).__name__} {value!r:.40}")
    if not minimum <= value <= _MAX_INT:
        raise RecordError(f"{name} out of range: {value}")
    return value


def _instant(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = _text(name, value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{name} is not an ISO-8601 timestamp: {text!r:.40}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{name} has no UTC offset: {text!r:.40}")
    return text


def _channel(name: str, value: Any) -> str:
    text = _text(name, value, nullable=False)
    if not CHANNEL_NAME_RE.match(text):
        raise RecordError(f"{name} must be a lower-case Telegram username ([a-z0-9_]), got {text!r:.40}")
    return text


def _source(name: str, value: Any) -> str:
    if value not in SOURCES:
        raise RecordError(f"{name} must be one of {', '.join(SOURCES)}, got {value!r:.40}")
    return value


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise RecordError(f"{name} must be true or false, got {type(value).__name__}")
    return value


def _image_path(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is not None and ("\\" in text or text.startswith("/") or ".." in text.split("/")):
        raise RecordError(f"{name} must be relative to the lake with POSIX slashes, got {text!r:.60}")
    return text


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
    "views": _int,
    "forwards": _int,
    "replies": _int,
    "edit_date": _instant,
    "post_author": _text,
    "grouped_id": lambda n, v: _int(n, v, minimum=-_MAX_INT),
    "reply_to_message_id": _int,
    "forwarded_from": _text,
    "has_media": _bool,
    "media_type": _text,
    "image_path": _image_path,
    "scraped_at": _instant,
    "source": _source,
    "raw": _raw,
}


def utc_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with an explicit offset, the one timestamp form the lake uses."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the lake stores instants, give a timezone")
    return moment.astimezone(UTC).isoformat()


def utc_now() -> str:
    return utc_iso(datetime.now(UTC))


def messages_file(root: Path, channel_name: str, message_date: str) -> Path:
    day = datetime.fromisoformat(message_date).astimezone(UTC).date().isoformat()
    return root / MESSAGES_DIR / day / f"{channel_name}.json"


def image_file(root: Path, channel_name: str, message_id: int) -> Path:
    return root / IMAGES_DIR / channel_name / f"{message_id}.jpg"


def image_relpath(channel_name: str, message_id: int) -> str:
    return f"{IMAGES_DIR}/{channel_name}/{message_id}.jpg"


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so readers see the old content or the new, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; lake files are read by other users too (containers, the API, Airflow workers).
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge_record(old: dict, new: dict) -> dict:
    """The record to keep when a message is seen again: the later scrape wins, but what it does not know
    (a Desktop export has no views) is kept from the earlier one."""
    if datetime.fromisoformat(old["scraped_at"]) > datetime.fromisoformat(new["scraped_at"]):
        return old
    return {k: (old.get(k) if v is None and k in KEEP_WHEN_MISSING else v) for k, v in new.items()}


@contextlib.contextmanager
def channel_lock(root: Path, channel_name: str):
    """Hold the lock on one channel's message files (an flock, across processes and containers sharing the
    lake) for a read-merge-write: two runs importing or scraping the same channel at once (full_pipeline and
    data_ingestion, cleanup and ingestion on Sunday 03:00) would otherwise each merge into what they read
    and the later rename would drop the other's messages."""
    locks = root / MESSAGES_DIR / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with (locks / f"{channel_name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_messages(root: Path, records: Iterable[MessageRecord]) -> dict[Path, int]:
    """Merge records into their day files by message_id (see merge_record), under the channel's lock.

    Returns how many records went to each file. A file is rewritten only when its content changes, so
    writing the same records twice leaves the lake (and the loader's checksums) untouched.
    """
    by_channel: dict[str, dict[Path, dict[int, dict]]] = {}
    for record in records:
        path = messages_file(root, record.channel_name, record.message_date)
        by_channel.setdefault(record.channel_name, {}).setdefault(path, {})[record.message_id] = record.to_dict()
    written: dict[Path, int] = {}
    for channel, by_file in by_channel.items():
        with channel_lock(root, channel):
            _merge_files(by_file)
        written.update({path: len(new) for path, new in by_file.items()})
    return written


def _merge_files(by_file: dict[Path, dict[int, dict]]) -> None:
    for path, new in by_file.items():
        merged: dict[int, dict] = {}
        if path.exists():
            for old in orjson.loads(path.read_bytes()):
                merged[old["message_id"]] = old
        for message_id, record in new.items():
            merged[message_id] = merge_record(merged[message_id], record) if message_id in merged else record
        data = orjson.dumps([merged[k] for k in sorted(merged)], option=orjson.OPT_INDENT_2) + b"\n"
        if not path.exists() or path.read_bytes() != data:
            atomic_write_bytes(path, data)


def read_messages(path: Path) -> list[dict]:
    return orjson.loads(path.read_bytes())


def quarantine(root: Path, relpath: str, reason: str, content: bytes | None = None) -> Path:
    """Keep what could not be used under quarantine/<relpath>, with a note saying why beside it.

    `content` is what to keep (the whole bad file, or the rejected records as JSON); the original input
    stays where it was, so nothing is lost.
    """
    target = root / QUARANTINE_DIR / relpath
    if content is not None:
        atomic_write_bytes(target, content)
    note = f"{utc_now()}  {reason}\n"
    atomic_write_bytes(target.with_name(target.name + ".reason.txt"), note.encode())
    return target
