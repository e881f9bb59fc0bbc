"""Lake files into a raw table, in batches: the machinery every loader shares.

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
import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import errors as pg_errors

from medical_telegram import lake
from medical_telegram.lake import RecordError
from medical_telegram.warehouse.loaders.lock import LOCK_WAIT_S, take_load_lock
from medical_telegram.warehouse.loaders.results import FileResult, LoadSummary

log = logging.getLogger(__name__)

BATCH_FILES = 500
BATCH_RECORDS = 5000
# What a file can be at fault for: bad data (class 22) or a broken constraint (class 23). Anything else (a lost
# connection, a full disk) is not the file's doing and stops the load.
FILE_ERRORS = (pg_errors.DataError, pg_errors.IntegrityError)

_LOG_COPY = """
copy raw.load_log (target, file_path, checksum, status, rows_in, inserted, updated, unchanged, quarantined,
                   nul_stripped, reason, started_at) from stdin
"""


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
                 batch_records: int = BATCH_RECORDS, lock_wait_s: float = LOCK_WAIT_S):
        self.conn = conn
        self.root = root
        self.batch_files = max(1, batch_files)
        self.batch_records = max(1, batch_records)
        self.temp_table = f"pg_temp.load_{self.target}"
        # One loader per target at a time (hourly ingestion, the engagement refresh and full_pipeline may
        # overlap): a second waits here, then sees what the first loaded and skips it.
        self._lock_key = f"medical_telegram.warehouse.loaders.messages:{self.target}"
        take_load_lock(conn, self._lock_key, self.target, lock_wait_s)
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
        # A file that gave no whole record held at least one: counted as one, so the loss shows in every count.
        rows_in = result.rows_in if result else 1
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


