"""Lake files → raw.telegram_messages.

Each file is loaded in one transaction: its valid records are COPYed into a temporary table and upserted,
and a raw.load_log row records the file's checksum and counts. A file already loaded with the same checksum
is skipped, so re-running changes nothing. Invalid records (and files that cannot be parsed) are quarantined
with the reason; every valid record of the file still loads, and rows_in = loaded + quarantined.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from medical_telegram import lake
from medical_telegram.lake import MessageRecord, RecordError

log = logging.getLogger(__name__)

TARGET = "telegram_messages"
_COPY_COLUMNS = (*(f for f in lake.RECORD_FIELDS if f != "raw"), "raw", "lake_file")
# Fields whose change makes a re-scraped message count as updated; raw follows them.
_TRACKED = ("channel_title", "message_text", "views", "forwards", "replies", "edit_date", "post_author",
            "has_media", "media_type", "image_path", "forwarded_from")


def _new_value(column: str) -> str:
    return f"coalesce(excluded.{column}, t.{column})" if column in lake.KEEP_WHEN_MISSING else f"excluded.{column}"


_UPSERT = f"""
with upserted as (
    insert into raw.telegram_messages as t ({", ".join(_COPY_COLUMNS)})
    select {", ".join(_COPY_COLUMNS)} from pg_temp.load_telegram_messages
    on conflict (channel_name, message_id) do update set
        {", ".join(f"{c} = {_new_value(c)}" for c in _TRACKED)},
        raw = excluded.raw, scraped_at = excluded.scraped_at, lake_file = excluded.lake_file,
        updated_at = now()
    where excluded.scraped_at >= t.scraped_at
      and ({", ".join(f"t.{c}" for c in _TRACKED)})
          is distinct from ({", ".join(_new_value(c) for c in _TRACKED)})
    returning (xmax = 0) as inserted
)
select count(*) filter (where inserted), count(*) filter (where not inserted) from upserted
"""

_LOG_ROW = """
insert into raw.load_log (target, file_path, checksum, status, rows_in, inserted, updated, unchanged,
                          quarantined, reason, started_at)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


@dataclasses.dataclass
class FileResult:
    path: str
    status: str  # loaded | skipped | quarantined
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    reason: str | None = None

    @property
    def channel(self) -> str:
        return Path(self.path).stem

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclasses.dataclass
class LoadSummary:
    files: list[FileResult] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def total(self, field: str) -> int:
        return sum(getattr(f, field) for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def by_channel(self) -> dict[str, dict[str, int]]:
        channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for f in self.files:
            for field in ("rows_in", "inserted", "updated", "unchanged", "quarantined"):
                channels[f.channel][field] += getattr(f, field)
        return {name: dict(counts) for name, counts in sorted(channels.items())}

    def as_dict(self) -> dict:
        return {
            "files": len(self.files),
            "files_loaded": self.count("loaded"),
            "files_skipped": self.count("skipped"),
            "files_quarantined": sum(f.status == "quarantined" or f.quarantined > 0 for f in self.files),
            "rows_in": self.total("rows_in"),
            "inserted": self.total("inserted"),
            "updated": self.total("updated"),
            "unchanged": self.total("unchanged"),
            "quarantined": self.total("quarantined"),
            "seconds": round(self.seconds, 2),
        }


def message_files(root: Path) -> list[Path]:
    return sorted((root / lake.MESSAGES_DIR).glob("*/*.json"))


def _copy_rows(records: Iterable[MessageRecord], lake_file: str) -> Iterable[tuple]:
    fields = [f for f in lake.RECORD_FIELDS if f != "raw"]
    for record in records:
        yield (*(getattr(record, f) for f in fields), orjson.dumps(record.raw).decode(), lake_file)


def split_records(data: bytes, relpath: str, check: Callable[[Any], Any], key: Callable[[Any], tuple],
                  what: str) -> tuple[list, list[dict]]:
    """Parse a lake file (a JSON array) and split its records into valid ones and rejects, each reject with its
    index and reason; a repeated key is rejected after its first occurrence.

    Raises RecordError when the file as a whole cannot be read.
    """
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise RecordError(f"expected a JSON array of {what} records, got {type(items).__name__}")
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
    for reject in rejects:
        log.warning("%s: record %d quarantined: %s", relpath, reject["index"], reject["reason"])
    return good, rejects


def validate(data: bytes, relpath: str) -> tuple[list[MessageRecord], list[dict]]:
    """A message file's valid records and its rejects (see split_records)."""
    return split_records(data, relpath, MessageRecord.from_dict,
                         lambda r: (r.channel_name, r.message_id), "message")


class LakeFileLoader:
    """Loads lake files into one raw table, each file in one transaction: its valid records are COPYed into a
    temporary table and applied, and a raw.load_log row records the file's checksum and counts. A file already
    loaded with the same checksum is skipped; bad records and unreadable files are quarantined.

    A subclass names its target table and says how to validate, copy and apply a file's records.
    """

    target: str
    copy_columns: tuple[str, ...]

    def __init__(self, conn: psycopg.Connection, root: Path):
        self.conn = conn
        self.root = root
        self.temp_table = f"pg_temp.load_{self.target}"
        conn.execute("set synchronous_commit = off")  # a crash loses whole files (and their log rows) only
        conn.execute(
            f"create temp table if not exists load_{self.target}"
            f" (like raw.{self.target} including defaults) on commit delete rows"
        )
        self.done = {
            (path, checksum)
            for path, checksum in conn.execute(
                "select file_path, checksum from raw.load_log where target = %s", (self.target,)
            )
        }
        # Each file gets a transaction of its own, so none may be open around them (it would turn them
        # into savepoints of one long transaction).
        conn.commit()

    def validate(self, data: bytes, relpath: str) -> tuple[list, list[dict]]:
        raise NotImplementedError

    def copy_rows(self, records: list, relpath: str) -> Iterable[tuple]:
        raise NotImplementedError

    def apply(self) -> tuple[int, int]:
        """Move the temporary table's rows into the target; returns (inserted, updated)."""
        raise NotImplementedError

    def all_new(self, records: list) -> bool:
        """Whether none of these records is in the target yet: then they are COPYed straight into it, which
        halves the server's work for the common case of new data. False (always upsert) by default."""
        return False

    def load_file(self, path: Path) -> FileResult:
        relpath = path.relative_to(self.root).as_posix()
        started = datetime.now(UTC)
        data = path.read_bytes()
        checksum = hashlib.sha256(data).hexdigest()
        if (relpath, checksum) in self.done:
            return FileResult(relpath, "skipped")
        try:
            good, rejects = self.validate(data, relpath)
        except RecordError as exc:
            reason = f"{relpath}: {exc}"
            log.error("file quarantined: %s", reason)
            lake.quarantine(self.root, relpath, reason, data)
            result = FileResult(relpath, "quarantined", reason=str(exc))
            with self.conn.transaction():
                self._log(result, checksum, started)
            self.done.add((relpath, checksum))
            return result
        result = FileResult(relpath, "loaded", rows_in=len(good) + len(rejects), quarantined=len(rejects))
        if rejects:
            result.reason = "; ".join(sorted({r["reason"] for r in rejects}))[:1000]
            body = orjson.dumps(rejects, option=orjson.OPT_INDENT_2)
            lake.quarantine(self.root, f"{relpath}.rejected.json",
                            f"{relpath}: {len(rejects)} of {result.rows_in} records rejected", body)
        with self.conn.transaction():
            if good:
                direct = self.all_new(good)
                table = f"raw.{self.target}" if direct else self.temp_table
                copy_sql = f"copy {table} ({', '.join(self.copy_columns)}) from stdin"
                with self.conn.cursor().copy(copy_sql) as copy:
                    for row in self.copy_rows(good, relpath):
                        copy.write_row(row)
                result.inserted, result.updated = (len(good), 0) if direct else self.apply()
                result.unchanged = len(good) - result.inserted - result.updated
            self._log(result, checksum, started)
        self.done.add((relpath, checksum))
        return result

    def _log(self, result: FileResult, checksum: str, started: datetime) -> None:
        self.conn.execute(
            _LOG_ROW,
            (self.target, result.path, checksum, result.status, result.rows_in, result.inserted, result.updated,
             result.unchanged, result.quarantined, result.reason, started),
        )

    def load_files(self, files: Iterable[Path],
                   progress: Callable[[int, int, FileResult], None] | None = None) -> LoadSummary:
        files = list(files)
        summary = LoadSummary()
        began = last_report = time.monotonic()
        for number, path in enumerate(files, 1):
            result = self.load_file(path.resolve())
            summary.files.append(result)
            if progress:
                progress(number, len(files), result)
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                log.info("loading raw.%s: %d of %d files, %d rows so far", self.target, number, len(files),
                         summary.total("rows_in"))
        # The caller's connection gets its own durability setting back.
        self.conn.execute("reset synchronous_commit")
        self.conn.commit()
        summary.seconds = time.monotonic() - began
        log.info(
            f"raw.{self.target}: %(files)d files (%(files_loaded)d loaded, %(files_skipped)d unchanged and"
            " skipped, %(files_quarantined)d with quarantined data); %(rows_in)d records in = %(inserted)d"
            " inserted + %(updated)d updated + %(unchanged)d unchanged + %(quarantined)d quarantined,"
            " in %(seconds).1f s",
            summary.as_dict(),
        )
        return summary


class MessageLoader(LakeFileLoader):
    target = TARGET
    copy_columns = _COPY_COLUMNS

    def validate(self, data: bytes, relpath: str) -> tuple[list[MessageRecord], list[dict]]:
        return validate(data, relpath)

    def copy_rows(self, records: list[MessageRecord], relpath: str) -> Iterable[tuple]:
        return _copy_rows(records, relpath)

    def apply(self) -> tuple[int, int]:
        return self.conn.execute(_UPSERT).fetchone()

    def all_new(self, records: list[MessageRecord]) -> bool:
        # Inside the file's transaction; a concurrent load of the same messages fails on the primary key and
        # its retry takes the upsert path.
        return not self.conn.execute(
            "select exists (select 1 from raw.telegram_messages t"
            " join unnest(%s::text[], %s::bigint[]) as k (channel_name, message_id) using (channel_name, message_id))",
            ([r.channel_name for r in records], [r.message_id for r in records]),
        ).fetchone()[0]


def load_messages(
    conn: psycopg.Connection,
    root: Path | None = None,
    paths: Iterable[Path] | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
) -> LoadSummary:
    """Load the lake's message files (or the given ones) into raw.telegram_messages."""
    root = (root or lake.lake_dir()).resolve()
    files = sorted(paths) if paths is not None else message_files(root)
    return MessageLoader(conn, root).load_files(files, progress)
