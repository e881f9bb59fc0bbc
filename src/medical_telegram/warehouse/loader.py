"""Lake files → raw.telegram_messages.

Files load in batches: the valid records of up to `batch_files` files (or `batch_records` records) go in one
COPY and one transaction, with a raw.load_log row per file recording its checksum and counts. A file already
loaded with the same checksum is skipped, so re-running changes nothing. Invalid records (and files that
cannot be parsed) are quarantined with the reason; every valid record of the file still loads, and
rows_in = loaded + quarantined. NUL characters, which PostgreSQL cannot store, are stripped and counted.

A batch commits whole or not at all. A batch that PostgreSQL rejects is retried file by file, so only the file
at fault is quarantined (with the server's message) and the load goes on with the next file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import operator
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors

from medical_telegram import lake
from medical_telegram.lake import MessageRecord, RecordError

log = logging.getLogger(__name__)

TARGET = "telegram_messages"
BATCH_FILES = 500
BATCH_RECORDS = 5000
_COPY_COLUMNS = (*(f for f in lake.RECORD_FIELDS if f != "raw"), "raw", "lake_file")
# Fields whose change makes a re-scraped message count as updated; raw follows them.
_TRACKED = ("channel_title", "message_text", "views", "forwards", "replies", "edit_date", "post_author",
            "has_media", "media_type", "image_path", "forwarded_from")
# What a file can be at fault for: bad data (class 22) or a broken constraint (class 23). Anything else (a lost
# connection, a full disk) is not the file's doing and stops the load.
FILE_ERRORS = (pg_errors.DataError, pg_errors.IntegrityError)


def _new_value(column: str) -> str:
    return f"coalesce(excluded.{column}, t.{column})" if column in lake.KEEP_WHEN_MISSING else f"excluded.{column}"


# Counts per lake file, for the load_log rows of a batch.
_UPSERT = f"""
with upserted as (
    insert into raw.telegram_messages as t ({", ".join(_COPY_COLUMNS)})
    select {", ".join(_COPY_COLUMNS)} from pg_temp.load_telegram_messages
    on conflict (channel_name, message_id) do update set
        {", ".join(f"{c} = {_new_value(c)}" for c in _TRACKED)},
        raw = excluded.raw, scraped_at = excluded.scraped_at, lake_file = excluded.lake_file,
        updated_at = now()
    -- a record whose lake does not say when it was scraped (another implementation's) is older than any that does
    where coalesce(excluded.scraped_at, '-infinity') >= coalesce(t.scraped_at, '-infinity')
      and ({", ".join(f"t.{c}" for c in _TRACKED)})
          is distinct from ({", ".join(_new_value(c) for c in _TRACKED)})
    returning t.lake_file, (xmax = 0) as inserted
)
select lake_file, count(*) filter (where inserted), count(*) filter (where not inserted)
from upserted group by lake_file
"""

_LOG_COPY = """
copy raw.load_log (target, file_path, checksum, status, rows_in, inserted, updated, unchanged, quarantined,
                   nul_stripped, reason, started_at) from stdin
"""


class NothingLoaded(RuntimeError):
    """Every record a load read was quarantined."""


@dataclasses.dataclass
class FileResult:
    path: str
    status: str  # loaded | skipped | quarantined
    rows_in: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    nul_stripped: int = 0  # NUL characters removed from the file's records (the records themselves load)
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
    batches: int = 0
    batches_retried: int = 0  # batches PostgreSQL rejected, retried file by file

    def total(self, field: str) -> int:
        return sum(getattr(f, field) for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def by_channel(self) -> dict[str, dict[str, int]]:
        channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for f in self.files:
            for field in ("rows_in", "inserted", "updated", "unchanged", "quarantined", "nul_stripped"):
                channels[f.channel][field] += getattr(f, field)
        return {name: dict(counts) for name, counts in sorted(channels.items())}

    @property
    def quarantined_everything(self) -> bool:
        """Records were read and every one was quarantined: nothing of the lake reached the warehouse."""
        return self.total("rows_in") > 0 and self.total("quarantined") == self.total("rows_in")

    def check_something_loaded(self) -> None:
        """Raise NothingLoaded when every record read was quarantined: such a load is a failure, not a success."""
        if self.quarantined_everything:
            reasons = Counter()
            for f in self.files:
                for reason in (f.reason or "unknown").split("; "):
                    reasons[reason] += 1
            said = "; ".join(f"{reason} ({n} file(s))" for reason, n in reasons.most_common(3))
            raise NothingLoaded(f"all {self.total('rows_in')} records read from {len(self.files)} file(s) were"
                                f" quarantined, none loaded: {said}. The records and a note on each are under"
                                " the lake's quarantine/ folder.")

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
            "nul_stripped": self.total("nul_stripped"),
            "batches": self.batches,
            "batches_retried": self.batches_retried,
            "seconds": round(self.seconds, 2),
        }


def message_files(root: Path) -> list[Path]:
    return sorted((root / lake.MESSAGES_DIR).glob("*/*.json"))


_FLAT_FIELDS = operator.attrgetter(*(f for f in lake.RECORD_FIELDS if f != "raw"))


def _copy_rows(records: Iterable[MessageRecord], lake_file: str) -> Iterable[tuple]:
    for record in records:
        yield (*_FLAT_FIELDS(record), orjson.dumps(record.raw).decode(), lake_file)


def split_records(data: bytes, relpath: str, check: Callable[[Any], Any], key: Callable[[Any], tuple],
                  what: str) -> tuple[list, list[dict], int]:
    """Parse a lake file (a JSON array) and split its records into valid ones and rejects, each reject with its
    index and reason; a repeated key is rejected after its first occurrence. NUL characters are removed from
    every record first; the third value is how many.

    Raises RecordError when the file as a whole cannot be read.
    """
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON ({exc})") from None
    if not isinstance(items, list):
        raise RecordError(f"expected a JSON array of {what} records, got {type(items).__name__}")
    nul_stripped = 0
    # JSON can only carry a NUL escaped, so a file without the escape needs no walk through its records.
    if b"\\u0000" in data:
        items, nul_stripped = lake.strip_nul(items)
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
    for reject in rejects:
        log.warning("%s: record %d quarantined: %s", relpath, reject["index"], reject["reason"])
    return good, rejects, nul_stripped


def validate(data: bytes, relpath: str) -> tuple[list[MessageRecord], list[dict], int]:
    """A message file's valid records, its rejects and the NULs stripped (see split_records)."""
    return split_records(data, relpath, MessageRecord.from_dict,
                         lambda r: (r.channel_name, r.message_id), "message")


@dataclasses.dataclass
class _Pending:
    """A validated file waiting for its batch to commit."""

    result: FileResult
    checksum: str
    started: datetime
    data: bytes
    records: list


@dataclasses.dataclass
class _Unreadable:
    """A file that cannot be read as a whole (not JSON, not an array): quarantined whole."""

    path: str
    checksum: str
    started: datetime
    data: bytes
    reason: str


_END = object()


def server_message(error: psycopg.Error) -> str:
    """What PostgreSQL said, on one line (with the COPY line it was reading, when it says)."""
    diag = error.diag
    text = diag.message_primary or str(error).strip().splitlines()[0]
    if diag.context:
        text += f" ({' '.join(diag.context.split())[:300]})"
    return text[:1000]


class LakeFileLoader:
    """Loads lake files into one raw table in batches: the valid records of many files in one COPY and one
    transaction, a raw.load_log row per file with its checksum and counts. A file already loaded with the
    same checksum is skipped; bad records and unreadable files are quarantined. A batch PostgreSQL rejects is
    retried file by file, and a file it still rejects is quarantined with the server's message.

    A subclass names its target table and says how to validate, copy and apply records, and which records
    must not meet in one batch (`batch_key`): one statement applies a whole batch, so two versions of the same
    row in it would be applied at once instead of in file order.
    """

    target: str
    copy_columns: tuple[str, ...]

    def __init__(self, conn: psycopg.Connection, root: Path, *, batch_files: int = BATCH_FILES,
                 batch_records: int = BATCH_RECORDS):
        self.conn = conn
        self.root = root
        self.batch_files = max(1, batch_files)
        self.batch_records = max(1, batch_records)
        self.temp_table = f"pg_temp.load_{self.target}"
        # One loader per target at a time (hourly ingestion, the engagement refresh and full_pipeline may
        # overlap): a second waits here, then sees what the first loaded and skips it.
        self._lock_key = f"medical_telegram.warehouse.loader:{self.target}"
        conn.execute("select pg_advisory_lock(hashtext(%s))", (self._lock_key,))
        conn.execute("set synchronous_commit = off")  # a crash loses whole batches (and their log rows) only
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
        self._stop_reading: Callable[[], Any] = lambda: None
        # Each batch gets a transaction of its own, so none may be open around them (it would turn them
        # into savepoints of one long transaction).
        conn.commit()

    # -- what a subclass says ---------------------------------------------------------------------------

    def validate(self, data: bytes, relpath: str) -> tuple[list, list[dict], int]:
        raise NotImplementedError

    def copy_rows(self, records: list, relpath: str) -> Iterable[tuple]:
        raise NotImplementedError

    def apply(self) -> dict[str, tuple[int, int]]:
        """Move the temporary table's rows into the target; returns {lake_file: (inserted, updated)}."""
        raise NotImplementedError

    def batch_key(self, record: Any) -> Hashable:
        raise NotImplementedError

    def all_new(self, records: list) -> bool:
        """Whether none of these records is in the target yet: then they are COPYed straight into it, which
        halves the server's work for the common case of new data. False (always upsert) by default."""
        return False

    # -- loading --------------------------------------------------------------------------------------

    def read_file(self, path: Path) -> FileResult | _Pending | _Unreadable:
        """Read and validate one file: a skipped file's result, a file to load, or one that cannot be read.

        No database work here: this runs in the reading thread (see _groups).
        """
        if not path.is_relative_to(self.root):
            path = path.resolve()
        relpath = path.relative_to(self.root).as_posix()
        started = datetime.now(UTC)
        data = path.read_bytes()
        checksum = hashlib.sha256(data).hexdigest()
        if (relpath, checksum) in self.done:
            return FileResult(relpath, "skipped")
        try:
            good, rejects, nul_stripped = self.validate(data, relpath)
        except RecordError as exc:
            return _Unreadable(relpath, checksum, started, data, str(exc))
        result = FileResult(relpath, "loaded", rows_in=len(good) + len(rejects), quarantined=len(rejects),
                            nul_stripped=nul_stripped)
        if rejects:
            result.reason = "; ".join(sorted({r["reason"] for r in rejects}))[:1000]
            body = orjson.dumps(rejects, option=orjson.OPT_INDENT_2)
            lake.quarantine(self.root, f"{relpath}.rejected.json",
                            f"{relpath}: {len(rejects)} of {result.rows_in} records rejected", body)
        return _Pending(result, checksum, started, data, good)

    def _quarantine_file(self, relpath: str, checksum: str, started: datetime, data: bytes, reason: str,
                         result: FileResult | None = None) -> FileResult:
        """Quarantine a whole file (and log it as such, so a re-run does not try it again)."""
        log.error("file quarantined: %s: %s", relpath, reason)
        lake.quarantine(self.root, relpath, f"{relpath}: {reason}", data)
        rows_in = result.rows_in if result else 0
        quarantined = FileResult(relpath, "quarantined", rows_in=rows_in, quarantined=rows_in,
                                 nul_stripped=result.nul_stripped if result else 0, reason=reason)
        with self.conn.transaction():
            self._log([(quarantined, checksum, started)])
        self.done.add((relpath, checksum))
        return quarantined

    def _write_batch(self, batch: list[_Pending], *, direct_allowed: bool = True) -> None:
        """COPY the batch's records and apply them, and log every file; inside the caller's transaction."""
        records = [r for p in batch for r in p.records]
        if records:
            direct = direct_allowed and self.all_new(records)
            table = f"raw.{self.target}" if direct else self.temp_table
            with self.conn.cursor().copy(f"copy {table} ({', '.join(self.copy_columns)}) from stdin") as copy:
                for pending in batch:
                    for row in self.copy_rows(pending.records, pending.result.path):
                        copy.write_row(row)
            counts = {p.result.path: (len(p.records), 0) for p in batch} if direct else self.apply()
            for pending in batch:
                result = pending.result
                result.inserted, result.updated = counts.get(result.path, (0, 0))
                result.unchanged = len(pending.records) - result.inserted - result.updated
        self._log([(p.result, p.checksum, p.started) for p in batch])

    def _flush(self, batch: list[_Pending], summary: LoadSummary) -> list[FileResult]:
        if not batch:
            return []
        summary.batches += 1
        try:
            with self.conn.transaction():
                self._write_batch(batch)
        except FILE_ERRORS as exc:
            summary.batches_retried += 1
            log.warning("a batch of %d files was rejected (%s); retrying it file by file", len(batch),
                        server_message(exc))
            return [self._load_alone(pending) for pending in batch]
        self.done.update((p.result.path, p.checksum) for p in batch)
        return [p.result for p in batch]

    def _load_alone(self, pending: _Pending) -> FileResult:
        try:
            with self.conn.transaction():
                # Always the upsert here: a concurrent load that inserted the same rows is no error then.
                self._write_batch([pending], direct_allowed=False)
        except FILE_ERRORS as exc:
            result = pending.result
            return self._quarantine_file(result.path, pending.checksum, pending.started, pending.data,
                                         f"PostgreSQL rejected the file: {server_message(exc)}", result)
        self.done.add((pending.result.path, pending.checksum))
        return pending.result

    def _log(self, rows: list[tuple[FileResult, str, datetime]]) -> None:
        # One COPY for a batch's log rows: a statement per file would cost the server more than the data.
        with self.conn.cursor().copy(_LOG_COPY) as copy:
            for r, checksum, started in rows:
                copy.write_row((self.target, r.path, checksum, r.status, r.rows_in, r.inserted, r.updated,
                                r.unchanged, r.quarantined, r.nul_stripped, r.reason, started))

    def _groups(self, files: list[Path]) -> Iterator[list[FileResult | _Pending | _Unreadable]]:
        """The files read and validated, in order, cut into groups whose files to load form one batch.

        Reading and validating is the loader's own work (Python); writing a batch is mostly the server's.
        A thread of its own reads the next batch while the server takes the current one, so on two cores
        the two overlap. It keeps at most one group ready ahead, so memory stays bounded by the batch size.
        """
        ready: queue.Queue = queue.Queue(maxsize=1)
        stop = threading.Event()

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def read_all() -> None:
            try:
                group: list = []
                rows, keys = 0, set()
                for path in files:
                    item = self.read_file(path if path.is_absolute() else path.resolve())
                    if isinstance(item, _Pending):
                        item_keys = {self.batch_key(r) for r in item.records}
                        if rows and (len(keys) and not item_keys.isdisjoint(keys) or rows + len(item.records)
                                     > self.batch_records or sum(isinstance(g, _Pending) for g in group)
                                     >= self.batch_files):
                            if not put(group):
                                return
                            group, rows, keys = [], 0, set()
                        rows += len(item.records) or 1  # an empty file still counts toward the batch
                        keys |= item_keys
                    group.append(item)
                if group and not put(group):
                    return
                put(_END)
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread, which raises it
                put(exc)

        reader = threading.Thread(target=read_all, name=f"read-{self.target}", daemon=True)
        reader.start()
        self._stop_reading = lambda: (stop.set(), reader.join())
        try:
            while (group := ready.get()) is not _END:
                if isinstance(group, BaseException):
                    raise group
                yield group
        finally:
            self._stop_reading()

    def _results(self, files: list[Path], summary: LoadSummary) -> Iterator[FileResult]:
        """Every file's result, in file order, each once its batch has committed."""
        for group in self._groups(files):
            batch = [item for item in group if isinstance(item, _Pending)]
            loaded = iter(self._flush(batch, summary))
            for item in group:
                if isinstance(item, _Pending):
                    yield next(loaded)
                elif isinstance(item, _Unreadable):
                    yield self._quarantine_file(item.path, item.checksum, item.started, item.data, item.reason)
                else:
                    yield item

    def load_files(self, files: Iterable[Path],
                   progress: Callable[[int, int, FileResult], None] | None = None) -> LoadSummary:
        files = list(files)
        summary = LoadSummary()
        began = last_report = time.monotonic()
        try:
            for number, result in enumerate(self._results(files, summary), 1):
                summary.files.append(result)
                if progress:
                    progress(number, len(files), result)
                if time.monotonic() - last_report > 10:
                    last_report = time.monotonic()
                    log.info("loading raw.%s: %d of %d files, %d rows so far", self.target, number, len(files),
                             summary.total("rows_in"))
        finally:
            # Also when loading failed: an exception's traceback would otherwise keep the reading thread alive.
            self._stop_reading()
            # The caller's connection gets its own durability setting back.
            if not self.conn.broken:
                self.conn.rollback()
                self.conn.execute("reset synchronous_commit")
                self.conn.execute("select pg_advisory_unlock(hashtext(%s))", (self._lock_key,))
                self.conn.commit()
        summary.seconds = time.monotonic() - began
        log.info(
            f"raw.{self.target}: %(files)d files (%(files_loaded)d loaded, %(files_skipped)d unchanged and"
            " skipped, %(files_quarantined)d with quarantined data) in %(batches)d batches (%(batches_retried)d"
            " retried file by file); %(rows_in)d records in = %(inserted)d inserted + %(updated)d updated +"
            " %(unchanged)d unchanged + %(quarantined)d quarantined; %(nul_stripped)d NUL characters stripped;"
            " in %(seconds).1f s",
            summary.as_dict(),
        )
        return summary


class MessageLoader(LakeFileLoader):
    target = TARGET
    copy_columns = _COPY_COLUMNS

    def validate(self, data: bytes, relpath: str) -> tuple[list[MessageRecord], list[dict], int]:
        return validate(data, relpath)

    def copy_rows(self, records: list[MessageRecord], relpath: str) -> Iterable[tuple]:
        return _copy_rows(records, relpath)

    def batch_key(self, record: MessageRecord) -> Hashable:
        return record.channel_name, record.message_id

    def apply(self) -> dict[str, tuple[int, int]]:
        # prepare=False here and below: a plan made while the table was empty (a sequential scan) would be
        # kept and reused as the table grows, which makes the load quadratic.
        rows = self.conn.execute(_UPSERT, prepare=False).fetchall()
        return {lake_file: (inserted, updated) for lake_file, inserted, updated in rows}

    def all_new(self, records: list[MessageRecord]) -> bool:
        # Inside the batch's transaction, and no other loader runs meanwhile (the advisory lock).
        return not self.conn.execute(
            "select exists (select 1 from raw.telegram_messages t"
            " join unnest(%s::text[], %s::bigint[]) as k (channel_name, message_id) using (channel_name, message_id))",
            ([r.channel_name for r in records], [r.message_id for r in records]),
            prepare=False,
        ).fetchone()[0]


def load_messages(
    conn: psycopg.Connection,
    root: Path | None = None,
    paths: Iterable[Path] | None = None,
    progress: Callable[[int, int, FileResult], None] | None = None,
    **batching: int,
) -> LoadSummary:
    """Load the lake's message files (or the given ones) into raw.telegram_messages.

    `batching`: batch_files and batch_records, the most files and records one transaction takes.
    """
    root = (root or lake.lake_dir()).resolve()
    files = sorted(paths) if paths is not None else message_files(root)
    return MessageLoader(conn, root, **batching).load_files(files, progress)
