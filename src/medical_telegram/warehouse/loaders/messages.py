"""Lake message files → raw.telegram_messages: validation, the COPY rows and the upsert.

The batches, the load_log rows, skipping what was loaded and quarantining what cannot be: batches.py.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

import orjson
import psycopg

from medical_telegram import lake
from medical_telegram.lake import MessageRecord, split_records
from medical_telegram.warehouse.loaders.batches import LakeFileLoader
from medical_telegram.warehouse.loaders.results import FileResult, LoadSummary, NothingLoaded  # noqa: F401

log = logging.getLogger(__name__)

TARGET = "telegram_messages"
_COPY_COLUMNS = (*(f for f in lake.RECORD_FIELDS if f != "raw"), "raw", "lake_file")
# Fields whose change makes a re-scraped message count as updated; raw follows them.
_TRACKED = ("channel_title", "message_text", "views", "forwards", "replies", "edit_date", "post_author",
            "has_media", "media_type", "image_path", "forwarded_from")


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


def message_files(root: Path) -> list[Path]:
    return sorted((root / lake.MESSAGES_DIR).glob("*/*.json"))


_FLAT_FIELDS = operator.attrgetter(*(f for f in lake.RECORD_FIELDS if f != "raw"))


def _copy_rows(records: Iterable[MessageRecord], lake_file: str) -> Iterable[tuple]:
    for record in records:
        yield (*_FLAT_FIELDS(record), orjson.dumps(record.raw).decode(), lake_file)


def validate(data: bytes, relpath: str) -> tuple[list[MessageRecord], list[dict], int]:
    """A message file's valid records, its rejects and the NULs stripped (see split_records)."""
    return split_records(data, relpath, MessageRecord.from_dict,
                         lambda r: (r.channel_name, r.message_id), "message")


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
