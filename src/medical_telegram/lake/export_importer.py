"""Telegram Desktop exports (result.json) → lake records and photos.

Handles a single-chat export and a whole-account export (chats under "chats"/"left_chats"); only channels
are imported from an account export (personal chats and groups are counted and left alone).

Channel names: an export carries no @username, so the lake name is, in order of preference, the name the
user gives (`channel_name` for a single chat, `channel_map` {chat id: name} for an account export), else
`channel_<chat id>`, stable across renames of the channel. The chat's display name becomes channel_title.

Instants come from `date_unixtime`, or for older exports from `date` read in the export's time zone; a
message's scraped_at is its newest instant in the export (export_messages.py). Importing the same export twice
writes the same records and changes nothing. An import whose every post was quarantined is not ok.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import orjson

from medical_telegram import lake
from medical_telegram.lake import MessageRecord, RecordError
from medical_telegram.lake.export_messages import ExportZone, export_zone, message_record  # noqa: F401

log = logging.getLogger(__name__)

CHANNEL_TYPES = ("public_channel", "private_channel")
NOT_INCLUDED_PREFIX = "(File not included"


class ExportError(ValueError):
    """The export as a whole cannot be read; the message names the file and why."""


@dataclasses.dataclass
class ChannelImport:
    channel_name: str
    channel_title: str
    messages_in: int = 0
    imported: int = 0
    service_skipped: int = 0
    unsupported_skipped: int = 0
    quarantined: int = 0
    photos_copied: int = 0
    photos_present: int = 0
    photos_not_included: int = 0
    photos_quarantined: int = 0
    nul_stripped: int = 0  # NUL characters removed from texts and the source record (the posts are kept)


@dataclasses.dataclass
class ImportSummary:
    export_file: str
    channels: list[ChannelImport] = dataclasses.field(default_factory=list)
    chats_skipped: int = 0

    def total(self, field: str) -> int:
        return sum(getattr(c, field) for c in self.channels)

    @property
    def quarantined_everything(self) -> bool:
        """Posts were read and every one was quarantined: an import that failed, not one with nothing new."""
        return self.total("quarantined") > 0 and self.total("imported") == 0

    def as_dict(self) -> dict:
        fields = [f.name for f in dataclasses.fields(ChannelImport) if f.name not in ("channel_name",
                                                                                      "channel_title")]
        return {
            "ok": not self.quarantined_everything,
            "export_file": self.export_file,
            "chats_skipped": self.chats_skipped,
            "channels": {c.channel_name: {f: getattr(c, f) for f in fields} for c in self.channels},
            **{f: self.total(f) for f in fields},
        }


def default_channel_name(chat_id: int) -> str:
    return f"channel_{abs(chat_id)}"


def _chats(export: dict) -> list[dict]:
    if "messages" in export:
        return [export]
    chats = []
    for key in ("chats", "left_chats"):
        section = export.get(key) or {}
        if not isinstance(section, dict) or not isinstance(section.get("list", []), list):
            raise ExportError(f'"{key}" must be an object with a "list" array')
        chats.extend(section.get("list", []))
    if not chats and "chats" not in export:
        raise ExportError('neither a chat export ("messages") nor an account export ("chats")')
    return chats


class ExportImporter:
    def __init__(self, export_file: Path, lake_root: Path, channel_name: str | None = None,
                 channel_map: dict[int, str] | None = None, zone: ExportZone | None = None):
        self.export_file = export_file
        self.export_dir = export_file.parent
        self.root = lake_root
        self.channel_name = channel_name
        self.channel_map = channel_map or {}
        self.zone = zone or export_zone()

    def run(self) -> ImportSummary:
        data = self.export_file.read_bytes()
        try:
            export = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self._quarantine_file(data, f"not valid JSON ({exc})")
        if not isinstance(export, dict):
            self._quarantine_file(data, f"expected a JSON object, got {type(export).__name__}")
        try:
            chats = _chats(export)
        except ExportError as exc:
            self._quarantine_file(data, str(exc))
        summary = ImportSummary(str(self.export_file))
        single = "messages" in export
        for chat in chats:
            if not isinstance(chat, dict) or chat.get("type") not in CHANNEL_TYPES:
                summary.chats_skipped += 1
                continue
            summary.channels.append(self._import_chat(chat, single))
        return summary

    def _quarantine_file(self, data: bytes, reason: str):
        relpath = f"desktop_export/{self.export_file.parent.name}/{self.export_file.name}"
        lake.quarantine(self.root, relpath, f"{self.export_file}: {reason}", data)
        raise ExportError(f"{self.export_file}: {reason} (a copy is in the lake's quarantine/{relpath})")

    def _name_for(self, chat: dict, single: bool) -> str:
        chat_id = chat.get("id")
        name = self.channel_map.get(chat_id) or (self.channel_name if single else None)
        if name is None:
            if not isinstance(chat_id, int):
                raise ExportError(f'{self.export_file}: chat "{chat.get("name")}" has no numeric id; '
                                  "give its channel name")
            name = default_channel_name(chat_id)
        name = name.lstrip("@").lower()
        if not lake.CHANNEL_NAME_RE.fullmatch(name):
            raise ExportError(f"channel name {name!r} is not a Telegram username ([a-z0-9_])")
        return name

    def _import_chat(self, chat: dict, single: bool) -> ChannelImport:
        name = self._name_for(chat, single)
        title = chat.get("name") or name
        result = ChannelImport(name, title)
        messages = chat.get("messages")
        if not isinstance(messages, list):
            raise ExportError(f'{self.export_file}: chat "{title}" has no "messages" array')
        records, rejects = [], []
        for index, message in enumerate(messages):
            result.messages_in += 1
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "service":
                result.service_skipped += 1
                continue
            if kind == "unsupported":
                result.unsupported_skipped += 1
                continue
            try:
                if kind != "message":
                    raise RecordError(f"unknown message type {kind!r:.40}")
                # PostgreSQL cannot store NUL: drop it from every text (and the source record), keep the post.
                clean, stripped = lake.strip_nul(message)
                record = message_record(clean, name, title, self.zone)
            except RecordError as exc:
                message_id = message.get("id") if isinstance(message, dict) else None
                log.warning("%s: message %d (id %s) quarantined: %s", self.export_file, index, message_id, exc)
                rejects.append({"index": index, "reason": str(exc), "record": message})
                continue
            result.nul_stripped += stripped
            if stripped:
                log.warning("%s: message %s: %d NUL character(s) stripped", self.export_file, record.message_id,
                            stripped)
            if record.media_type == "photo":
                self._copy_photo(record, message.get("photo"), result)
            records.append(record)
        unique = _first_of_each_id(records, rejects)
        lake.write_messages(self.root, unique)
        result.imported = len(unique)
        result.quarantined = len(rejects)
        if rejects:
            lake.quarantine(
                self.root, f"desktop_export/{name}/{self.export_file.parent.name}.rejected.json",
                f"{self.export_file}: {len(rejects)} of {result.messages_in} messages rejected",
                orjson.dumps(rejects, option=orjson.OPT_INDENT_2),
            )
        _log_import(result)
        return result

    def _copy_photo(self, record: MessageRecord, photo: Any, result: ChannelImport) -> None:
        """Copy the message's photo into the lake; a missing or broken photo is quarantined with the reason
        and the message kept without it (image_path null)."""
        if not isinstance(photo, str) or photo.startswith(NOT_INCLUDED_PREFIX):
            result.photos_not_included += 1
            return
        target = lake.image_file(self.root, record.channel_name, record.message_id)
        relpath = lake.image_relpath(record.channel_name, record.message_id)
        if target.exists():
            record.image_path = relpath
            result.photos_present += 1
            return
        where = f"{self.export_file}: message {record.message_id} photo {photo!r:.300}"
        source, reason = self._photo_source(photo)
        content = None
        if reason is None:
            try:
                lake.check_image(source)
            except lake.ImageError as exc:
                reason = f"is not a usable JPEG: {exc}"
                content = source.read_bytes()
        if reason is not None:
            lake.quarantine(self.root, f"desktop_export/{record.channel_name}/{record.message_id}.photo",
                            f"{where} {reason}", content)
            log.warning("%s %s; the message is kept without it", where, reason)
            result.photos_quarantined += 1
            return
        lake.atomic_copy(source, target)
        record.image_path = relpath
        result.photos_copied += 1

    def _photo_source(self, photo: str) -> tuple[Path, str | None]:
        """The photo's file inside the export, or why it cannot be used."""
        if "\x00" in photo:
            return self.export_dir, "has a NUL character in its path"
        try:
            source = (self.export_dir / photo).resolve()
            if not source.is_relative_to(self.export_dir.resolve()):
                return source, "points outside the export"
            if not source.is_file():
                return source, "is missing"
        except OSError as exc:  # a name too long for the filesystem, a loop of links ...
            return self.export_dir, f"cannot be opened: {exc.strerror or exc}"
        return source, None


def find_export_file(path: Path) -> Path:
    """Accept the export folder or its result.json."""
    if path.is_dir():
        path = path / "result.json"
    if not path.is_file():
        raise ExportError(f"{path}: no such export (expected a folder with result.json, or the file itself)")
    return path


def import_export(export_path: Path, lake_root: Path, channel_name: str | None = None,
                  channel_map: dict[int, str] | None = None, timezone: str | None = None) -> ImportSummary:
    """Import a Telegram Desktop export (folder or result.json) into the lake; `timezone` reads the local
    dates of exports without epoch seconds (export_messages.DEFAULT_TIMEZONE when None)."""
    try:
        zone = export_zone(timezone)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    return ExportImporter(find_export_file(Path(export_path)), Path(lake_root), channel_name, channel_map,
                          zone).run()


def _first_of_each_id(records: list[MessageRecord], rejects: list[dict]) -> list[MessageRecord]:
    """The records with a message id seen first; the repeats go to `rejects`."""
    seen: set[int] = set()
    unique = []
    for record in records:
        if record.message_id in seen:
            rejects.append({"index": None, "reason": f"duplicate id {record.message_id} in the export",
                            "record": record.raw})
            continue
        seen.add(record.message_id)
        unique.append(record)
    return unique


def _log_import(result: ChannelImport) -> None:
    log.info(
        "%s (@%s): %d messages in = %d imported + %d service + %d unsupported + %d quarantined; photos: "
        "%d copied, %d already in the lake, %d not included in the export, %d quarantined; %d NUL characters"
        " stripped",
        result.channel_title, result.channel_name, result.messages_in, result.imported, result.service_skipped,
        result.unsupported_skipped, result.quarantined, result.photos_copied, result.photos_present,
        result.photos_not_included, result.photos_quarantined, result.nul_stripped,
    )
