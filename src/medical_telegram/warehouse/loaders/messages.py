"""Lake message files → raw.telegram_messages: validation, the COPY rows and the upsert.

The batches, the load_log rows, skipping what was loaded and quarantining what cannot be: batches.py.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import orjson
import psycopg
from msgspec import Meta

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

_Text = str | None
_Int32 = Annotated[int, Meta(ge=0, le=lake.MAX_INT32)] | None


class _PlainMessage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A lake record in the plain form the scraper and the importer write, decoded and type-checked in C.

    The same contract as lake.MessageRecord.from_dict, for the common case only: a file whose records all
    have this form (checked by the decoder, then by _plain_messages) loads from these; any other file goes
    through split_records and the record checks, which accept it or quarantine each bad record with its
    reason. `raw` stays the JSON text it was in the file (PostgreSQL parses it into jsonb), so the loader
    neither parses nor re-serialises it. Fields in the COPY's column order.
    """

    channel_name: Annotated[str, Meta(pattern=rf"\A{lake.CHANNEL_NAME_RE.pattern}\Z")]
    message_id: Annotated[int, Meta(ge=1, le=lake.MAX_INT)]
    message_date: str
    scraped_at: str
    source: Literal[lake.SOURCES]
    channel_title: _Text = None
    message_text: _Text = ""
    views: _Int32 = None
    forwards: _Int32 = None
    replies: _Int32 = None
    edit_date: _Text = None
    post_author: _Text = None
    grouped_id: Annotated[int, Meta(ge=-lake.MAX_INT, le=lake.MAX_INT)] | None = None
    reply_to_message_id: Annotated[int, Meta(ge=0, le=lake.MAX_INT)] | None = None
    forwarded_from: _Text = None
    has_media: bool = False
    media_type: _Text = None
    image_path: _Text = None
    raw: msgspec.Raw


_PLAIN_FILE = msgspec.json.Decoder(list[_PlainMessage])


def _plain_messages(data: bytes) -> list[_PlainMessage] | None:
    """A file's records when every one has the plain form and the file repeats no message; None otherwise
    (then split_records decides, record by record)."""
    if b"\\u0000" in data:  # a NUL to strip, counted: split_records does that
        return None
    try:
        records = _PLAIN_FILE.decode(data)
    except msgspec.DecodeError:  # a record of another form, or a file that is not a JSON array of objects
        return None
    instant = lake.canonical_instant
    keys = set()
    for r in records:
        r.message_date, r.scraped_at = instant(r.message_date), instant(r.scraped_at)
        if r.edit_date is not None:
            r.edit_date = instant(r.edit_date)
            if r.edit_date[0] == "!":
                return None
        path = r.image_path
        if (r.message_date[0] == "!" or r.scraped_at[0] == "!" or memoryview(r.raw)[:1] != b"{"
                or path is not None and not lake.is_plain_lake_path(path)):
            return None
        if r.message_text is None:
            r.message_text = ""
        keys.add((r.channel_name, r.message_id))
    return records if len(keys) == len(records) else None


def _copy_rows(records: Iterable[MessageRecord | _PlainMessage], lake_file: str) -> Iterable[tuple]:
    astuple = msgspec.structs.astuple
    for record in records:
        if type(record) is _PlainMessage:
            *fields, raw = astuple(record)
            yield (*fields, bytes(raw).decode(), lake_file)
        else:
            yield (*_FLAT_FIELDS(record), orjson.dumps(record.raw).decode(), lake_file)


def validate(data: bytes, relpath: str) -> tuple[list[MessageRecord | _PlainMessage], list[dict], int]:
    """A message file's valid records, its rejects and the NULs stripped (see split_records)."""
    if (plain := _plain_messages(data)) is not None:
        return plain, [], 0
    return split_records(data, relpath, MessageRecord.from_dict,
                         lambda r: (r.channel_name, r.message_id), "message")


class MessageLoader(LakeFileLoader):
    target = TARGET
    copy_columns = _COPY_COLUMNS

    def validate(self, data: bytes, relpath: str) -> tuple[list[MessageRecord | _PlainMessage], list[dict], int]:
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
