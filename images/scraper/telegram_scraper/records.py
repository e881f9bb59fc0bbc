"""A Telethon message → the lake's MessageRecord (defined once, in medical_telegram.lake)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from telethon.tl import types

from medical_telegram.lake import MessageRecord, utc_iso

# Document attributes that name what a document is; the first match wins, in this order.
_DOCUMENT_KINDS = (
    (types.DocumentAttributeSticker, "sticker"),
    (types.DocumentAttributeAnimated, "animation"),
)


def json_safe(value: Any, nuls: list[int] | None = None) -> Any:
    """Telethon's to_dict() → plain JSON: bytes as base64, datetimes as ISO-8601 UTC.

    NUL characters are dropped, because PostgreSQL's jsonb and text cannot hold them; `nuls[0]` counts them.
    """
    kind = type(value)
    if value is None or kind is bool or kind is float:  # most of a to_dict(): absent fields and flags
        return value
    if kind is str:
        return _strip_nul(value, nuls) if "\x00" in value else value
    if kind is int:
        return value if -(2**63) <= value < 2**64 else str(value)  # orjson writes 64-bit integers only
    if isinstance(value, dict):
        return {json_safe(str(k), nuls): json_safe(v, nuls) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, nuls) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, str):
        return json_safe(str(value), nuls)
    if isinstance(value, int):
        return json_safe(int(value), nuls)
    return value


def _strip_nul(text: str | None, nuls: list[int] | None) -> str | None:
    if text is None or "\x00" not in text:
        return text
    if nuls is not None:
        nuls[0] += text.count("\x00")
    return text.replace("\x00", "")


def media_type(media: Any) -> str | None:
    """A short, stable name for a message's media (None when it has none)."""
    if media is None or isinstance(media, types.MessageMediaEmpty):
        return None
    if isinstance(media, types.MessageMediaPhoto):
        return "photo" if media.photo is not None else "photo_expired"
    if isinstance(media, types.MessageMediaDocument):
        document = media.document
        if not isinstance(document, types.Document):
            return "document_expired"
        attributes = document.attributes or []
        for attribute in attributes:
            if isinstance(attribute, types.DocumentAttributeVideo):
                return "video_note" if attribute.round_message else "video"
            if isinstance(attribute, types.DocumentAttributeAudio):
                return "voice" if attribute.voice else "audio"
        for kind, name in _DOCUMENT_KINDS:
            if any(isinstance(a, kind) for a in attributes):
                return name
        return "document"
    if isinstance(media, types.MessageMediaWebPage):
        return "webpage"
    name = type(media).__name__.removeprefix("MessageMedia")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def has_attachment(media: Any) -> bool:
    # A link preview is not something the poster attached.
    return media_type(media) not in (None, "webpage")


def _peer_name(peer: Any) -> str | None:
    if isinstance(peer, types.PeerChannel):
        return f"channel{peer.channel_id}"
    if isinstance(peer, types.PeerUser):
        return f"user{peer.user_id}"
    if isinstance(peer, types.PeerChat):
        return f"chat{peer.chat_id}"
    return None


def forwarded_from(message: Any) -> str | None:
    """Who a forward came from: the name Telegram sent with it, else its peer as `channel123` / `user42`.

    The name of the original channel comes from the entities Telegram returns beside the messages
    (Telethon's `message.forward.chat`); no extra request is made for it.
    """
    header = getattr(message, "fwd_from", None)
    if header is None:
        return None
    forward = getattr(message, "forward", None)
    for entity in (getattr(forward, "chat", None), getattr(forward, "sender", None)):
        if entity is not None:
            name = getattr(entity, "title", None) or getattr(entity, "username", None)
            if name:
                return name
    return header.from_name or _peer_name(header.from_id) or header.post_author or "unknown"


def reply_to_message_id(message: Any) -> int | None:
    header = getattr(message, "reply_to", None)
    if isinstance(header, types.MessageReplyHeader) and header.reply_to_msg_id:
        return header.reply_to_msg_id
    return None


def to_record(
    message: types.Message,
    *,
    channel: str,
    channel_title: str | None,
    image_path: str | None,
    scraped_at: str,
    nuls: list[int] | None = None,
) -> MessageRecord:
    """The lake record of a message; NUL characters are dropped from its texts and source, counted in
    `nuls[0]` (the post itself is kept)."""
    replies = message.replies.replies if message.replies is not None else None
    return MessageRecord(
        channel_name=channel,
        channel_title=_strip_nul(channel_title, nuls),
        message_id=message.id,
        message_date=utc_iso(message.date),
        # Telethon's .message is the plain text; .text would add Markdown for the entities.
        message_text=_strip_nul(message.message or "", nuls),
        views=message.views,
        forwards=message.forwards,
        replies=replies,
        edit_date=utc_iso(message.edit_date) if message.edit_date else None,
        post_author=_strip_nul(message.post_author, nuls),
        grouped_id=message.grouped_id,
        reply_to_message_id=reply_to_message_id(message),
        forwarded_from=_strip_nul(forwarded_from(message), nuls),
        has_media=has_attachment(message.media),
        media_type=media_type(message.media),
        image_path=image_path,
        scraped_at=scraped_at,
        source="telethon",
        raw=json_safe(message.to_dict(), nuls),
    )


def same_album(batch: list[Any], message: Any) -> bool:
    """`message` belongs to the album the batch ends with."""
    grouped = getattr(message, "grouped_id", None)
    return bool(batch) and grouped is not None and getattr(batch[-1], "grouped_id", None) == grouped


def plain_fields(record: dict) -> dict:
    # What counts as a change: everything but when it was scraped and the source record (whose file
    # references Telegram rotates on its own).
    return {k: v for k, v in record.items() if k not in ("scraped_at", "raw")}
