"""Where the lake's files live, and writing them: atomic merged writes under a channel's lock, reads, the
quarantine, and a file's records split into valid ones and rejects (what every loader reads)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from medical_telegram.lake.record import KEEP_WHEN_MISSING, MessageRecord, RecordError, strip_nul

log = logging.getLogger(__name__)

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
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable: without it a power cut can leave the old name (or none), while
    what was written after the rename (a high-water mark, a load_log row) survives."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
        fsync_dir(target.parent)
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
            _merge_files(root, by_file)
        written.update({path: len(new) for path, new in by_file.items()})
    return written


def _merge_files(root: Path, by_file: dict[Path, dict[int, dict]]) -> None:
    for path, new in by_file.items():
        merged: dict[int, dict] = {}
        if path.exists():
            for old in _existing_records(root, path):
                merged[old["message_id"]] = old
        for message_id, record in new.items():
            merged[message_id] = merge_record(merged[message_id], record) if message_id in merged else record
        data = orjson.dumps([merged[k] for k in sorted(merged)], option=orjson.OPT_INDENT_2) + b"\n"
        if not path.exists() or path.read_bytes() != data:
            atomic_write_bytes(path, data)


def _existing_records(root: Path, path: Path) -> list[dict]:
    """The records of a day file about to be merged into. A damaged file must not stop its channel for good:
    a copy goes to the quarantine with the reason, and its whole records are merged (nothing else is guessed)."""
    data = path.read_bytes()
    try:
        items, damage, _ = parse_array(data, "message")
    except RecordError as exc:
        items, damage = [], str(exc)
    whole = [item for item in items if isinstance(item, dict) and isinstance(item.get("message_id"), int)]
    if damage or len(whole) < len(items):
        relpath = path.relative_to(root).as_posix()
        reason = (f"{relpath}: damaged day file replaced on the next write: {damage or 'records without an id'};"
                  f" {len(whole)} whole record(s) kept in the lake")
        quarantine(root, relpath, reason, data)
        log.error("%s", reason)
    return whole


def read_messages(path: Path) -> list[dict]:
    return orjson.loads(path.read_bytes())


def quarantine(root: Path, relpath: str, reason: str, content: bytes | None = None) -> Path:
    """Keep what could not be used under quarantine/<relpath>, with a note saying why beside it.

    `content` is what to keep (the whole bad file, or the rejected records as JSON); the original input
    stays where it was, so nothing is lost.
    """
    target = _free_name(root / QUARANTINE_DIR / relpath, content)
    if content is not None:
        atomic_write_bytes(target, content)
    note = f"{utc_now()}  {reason}\n"
    atomic_write_bytes(target.with_name(target.name + ".reason.txt"), note.encode())
    return target


def _free_name(target: Path, content: bytes | None) -> Path:
    """`target`, or `target.N` when another item is already kept there: two items never share a name, and the
    same item kept again (a re-run) lands on its own earlier copy."""
    if content is None:  # a note alone (the item could not be read): it says the latest why
        return target
    candidate, number = target, 1
    while candidate.exists() and candidate.read_bytes() != content:
        number += 1
        candidate = target.with_name(f"{target.name}.{number}")
    return candidate


def split_records(data: bytes, relpath: str, check: Callable[[Any], Any], key: Callable[[Any], tuple],
                  what: str) -> tuple[list, list[dict], int]:
    """Parse a lake file (a JSON array) and split its records into valid ones and rejects, each reject with its
    index and reason; a repeated key is rejected after its first occurrence. NUL characters are removed from
    every record first; the third value is how many.

    A file cut or damaged part-way (a disk that filled, a copy that stopped) still gives the whole records
    before the damage; the rest counts as one rejected record. Raises RecordError when not one whole record
    can be read.
    """
    items, damage, rest = parse_array(data, what)
    nul_stripped = 0
    # JSON can only carry a NUL escaped, so a file without the escape needs no walk through its records.
    if b"\\u0000" in data:
        items, nul_stripped = strip_nul(items)
        if nul_stripped:
            log.warning("%s: %d NUL character(s) stripped (PostgreSQL cannot store them)", relpath, nul_stripped)
    good: list = []
    rejects: list[dict] = []
    seen: dict[tuple, int] = {}
    for index, item in enumerate(items):
        try:
            record = check(item)
        except RecordError as exc:
            rejects.append({"index": index, "reason": str(exc), "record": item})
            continue
        record_key = key(record)
        if record_key in seen:
            reason = f"duplicate {what} {record_key} in this file (first at index {seen[record_key]})"
            rejects.append({"index": index, "reason": reason, "record": item})
            continue
        seen[record_key] = index
        good.append(record)
    if damage:  # the whole records before it load; what follows is one record lost, kept in the quarantine
        rejects.append({"index": len(items), "reason": damage, "record": rest.decode("utf-8", "replace")})
    for reject in rejects:
        log.warning("%s: record %d quarantined: %s", relpath, reject["index"], reject["reason"])
    return good, rejects, nul_stripped


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # what orjson refuses, the recovery refuses too


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def parse_array(data: bytes, what: str = "lake") -> tuple[list, str | None, bytes]:
    """A lake file's JSON array: (records, None, b"") when it parses whole; for a file damaged part-way, the
    whole records before the damage, what is wrong, and the damaged rest (bytes). Nothing is guessed: a record
    is either complete JSON or left in the rest.

    Raises RecordError when not one whole record can be read.
    """
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        error = f"not valid JSON ({exc})"
    else:
        if not isinstance(items, list):
            raise RecordError(f"expected a JSON array of {what} records, got {type(items).__name__}")
        return items, None, b""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # cut inside a character: what precedes it may still hold records
        text = data[:exc.start].decode("utf-8")
    items, end = [], 0
    start = len(text) - len(text.lstrip())
    if text.startswith("[", start):
        end = start + 1
        while True:
            position = end + len(text[end:]) - len(text[end:].lstrip())
            try:
                item, after = _DECODER.raw_decode(text, position)
            except ValueError:
                break
            items.append(item)
            end = after + len(text[after:]) - len(text[after:].lstrip())
            if not text.startswith(",", end):
                break
            end += 1
    if not items:
        raise RecordError(error)
    rest = data[len(text[:end].encode("utf-8")):]
    return items, f"{error}: damaged after whole record {len(items)}; the rest is kept in the quarantine", rest
