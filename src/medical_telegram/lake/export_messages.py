"""One Telegram Desktop export message → one lake record: its text, its instants, its media type.

Exports from older Desktop versions lack `date_unixtime` (and `edited_unixtime`): only `date`, the exporting
machine's local clock without an offset. Such an instant is read in the export's time zone (--timezone; by
default Ethiopia's, +03:00 all year, the channels' own clock) and the record says so: its raw record gains
INFERRED_KEY, {"fields": [...], "timezone": ...}, next to what the export held.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from medical_telegram import lake
from medical_telegram.lake.record import MessageRecord, RecordError

# Epoch seconds as Desktop writes them: ASCII digits (isdigit() takes "²", int() not), few enough to be a date.
_EPOCH_RE = re.compile(r"[0-9]{1,11}")
DEFAULT_TIMEZONE = "+03:00"
INFERRED_KEY = "medtel_instant_from_local_clock"


@dataclasses.dataclass(frozen=True)
class ExportZone:
    name: str
    tzinfo: tzinfo


def export_zone(name: str | None = None) -> ExportZone:
    """A time zone named as an offset (+03:00, -0500, UTC) or by IANA name (Africa/Addis_Ababa)."""
    name = (name or DEFAULT_TIMEZONE).strip()
    if name.upper() in ("UTC", "Z"):
        return ExportZone("UTC", UTC)
    if offset := re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name):
        sign = -1 if offset[1] == "-" else 1
        return ExportZone(name, timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3]))))
    try:
        from zoneinfo import ZoneInfo

        return ExportZone(name, ZoneInfo(name))
    except (ValueError, OSError, LookupError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r} ({type(exc).__name__}); give an offset like +03:00"
                         " or an IANA name like Africa/Addis_Ababa") from None


def flatten_text(text: Any) -> str:
    """Plain text from an export's `text`: a string, or an array of strings and {type, text} objects."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        parts = []
        for part in text:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise RecordError(f"text array holds a {type(part).__name__} without text")
        return "".join(parts)
    raise RecordError(f"text must be a string or an array, got {type(text).__name__}")


def _instant(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not _EPOCH_RE.fullmatch(str(value)):
        raise RecordError(f"{field} must be a string of epoch seconds, got {value!r:.40}")
    try:
        return lake.utc_iso(datetime.fromtimestamp(int(value), UTC))
    except (OverflowError, OSError, ValueError):
        raise RecordError(f"{field} is not a possible date: {value!r:.40}") from None


def _media_type(message: dict) -> str | None:
    if "photo" in message:
        return "photo"
    if message.get("media_type"):
        return str(message["media_type"])
    if "file" in message:
        return "document"
    return None


def _optional_int(message: dict, field: str) -> int | None:
    value = message.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"{field} must be an integer, got {value!r:.40}")
    return value


def message_record(message: dict, channel_name: str, channel_title: str, zone: ExportZone) -> MessageRecord:
    """The lake record of one export message (not its photo: see the importer's _copy_photo).

    scraped_at is the newest instant the export itself gives the message (its edit, else its date): a
    re-export copied with an older file time still carries its edits, and the same export imported twice
    writes the same records.
    """
    if not isinstance(message.get("id"), int) or isinstance(message.get("id"), bool):
        raise RecordError(f"id must be an integer, got {message.get('id')!r:.40}")
    inferred: list[str] = []
    message_date = _message_instant(message, "date", zone, inferred)
    if message_date is None:
        raise RecordError("missing date_unixtime (and date)")
    edit_date = _message_instant(message, "edited", zone, inferred)
    media_type = _media_type(message)
    forwarded = message.get("forwarded_from") or message.get("saved_from")
    raw = message if not inferred else {**message, INFERRED_KEY: {"fields": inferred, "timezone": zone.name}}
    record = MessageRecord(
        channel_name=channel_name,
        channel_title=channel_title,
        message_id=message["id"],
        message_date=message_date,
        message_text=flatten_text(message.get("text")),
        edit_date=edit_date,
        post_author=message.get("author"),
        reply_to_message_id=_optional_int(message, "reply_to_message_id"),
        forwarded_from=forwarded,
        has_media=media_type is not None,
        media_type=media_type,
        scraped_at=max(filter(None, (edit_date, message_date))),
        source="desktop_export",
        raw=raw,
    )
    # Run the lake contract's checks too (types of author, NUL characters, ...).
    return MessageRecord.from_dict(record.to_dict())


def _message_instant(message: dict, field: str, zone: ExportZone, inferred: list[str]) -> str | None:
    """`<field>_unixtime` (the true instant), else `<field>` (the exporting machine's clock, read in `zone`,
    and noted in `inferred`); None when the message has neither."""
    if f"{field}_unixtime" in message:
        return _instant(message[f"{field}_unixtime"], f"{field}_unixtime")
    if field not in message:
        return None
    value = message[field]
    try:
        local = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        local = None
    if local is None:
        raise RecordError(f"{field} must be a local date and time like 2021-03-04T05:06:07, got {value!r:.40}")
    inferred.append(field)
    return lake.utc_iso(local if local.tzinfo else local.replace(tzinfo=zone.tzinfo))
