"""Where the lake's files live, and writing them: atomic merged writes under a channel's lock, reads, the
quarantine."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from medical_telegram.lake.record import KEEP_WHEN_MISSING, MessageRecord

MESSAGES_DIR = "raw/telegram_messages"
IMAGES_DIR = "raw/images"
DETECTIONS_DIR = "enriched/detections"
QUARANTINE_DIR = "quarantine"
_UMASK = os.umask(0)
os.umask(_UMASK)


def lake_dir() -> Path:
    return Path(os.environ.get("DATA_LAKE_DIR", "data")).resolve()



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


def temp_name(target: Path, suffix: str = ".tmp") -> Path:
    """A hidden name beside `target` that no other writer uses (a PID is 1 in every container)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}{suffix}")


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def atomic_copy(source: Path, target: Path) -> None:
    """Copy a file so readers see it whole or not at all, and durable before it gets its name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(target)
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def scrape_order(record: Mapping[str, Any]) -> datetime:
    """When a record was scraped, for ordering it against others; a record whose lake does not say (another
    implementation's) is older than any that does."""
    scraped_at = record.get("scraped_at")
    return datetime.fromisoformat(scraped_at) if scraped_at else datetime.min.replace(tzinfo=UTC)


def merge_record(old: dict, new: dict) -> dict:
    """The record to keep when a message is seen again: the later scrape wins, but what it does not know
    (a Desktop export has no views) is kept from the earlier one."""
    if scrape_order(old) > scrape_order(new):
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
