"""Build the bundled sample (sample/) from the real posts of @lobelia4cosmetics: a folder with the channel's
messages.json and images/ as scraped (the maintainer's fixtures; not part of the repository).

Run once by a maintainer; the output is committed, so a user's clone needs nothing else:

    .venv/bin/python scripts/build_sample.py --fixtures DIR [--channels DIR]

Writes
  sample/lake/          a lake snapshot: the 100 posts as lake records (they were scraped with Telethon on
                        2026-01-18, so they carry views and forwards) and the 122 photos, shrunk to 640 px
  sample/desktop_export a Telegram Desktop export of the same channel, as a user would make one: text with
                        entities, local-clock dates plus date_unixtime, two service messages, photos for the
                        20 newest posts and "File not included" for the rest
  sample/channels/      with --channels (the folder of JSON Lines files of more channels' real posts): a lake
                        of three days (CHANNEL_DAYS) of two wholesale pharmacy channels, as lake records whose
                        scrape time is unknown (the public scrapes they come from do not say it)
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

from medical_telegram import lake
from medical_telegram.lake import MessageRecord

PROJECT = Path(__file__).resolve().parents[1]
CHANNEL = "lobelia4cosmetics"
TITLE = "Lobelia pharmacy and cosmetics"
# The fixture says when it was scraped (2026-01-18) but not the hour; just after the newest post.
SCRAPED_AT = "2026-01-18T13:00:00+00:00"
# Telegram Desktop writes local time; the sample pretends it was exported in Addis Ababa (UTC+3).
EXPORT_CLOCK = timezone(timedelta(hours=3))
EXPORT_CHANNEL_ID = 1_000_000_001  # the real id is not in the fixture; any stable number serves
MAX_SIDE = 640
EXPORT_PHOTOS = 20
CHANNEL_DAYS = {"tikvahpharma": ("2025-06-18", "2025-06-19", "2025-06-20"),
                "pharmacyhubethiopia": ("2025-06-18", "2025-06-19", "2025-06-20")}
NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"


def shrink(source: Path) -> bytes:
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()


def lake_records(posts: list[dict], photos: set[int]) -> list[MessageRecord]:
    records = []
    for post in posts:
        message_id = post["message_id"]
        has_photo = message_id in photos
        records.append(MessageRecord(
            channel_name=CHANNEL,
            channel_title=TITLE,
            message_id=message_id,
            message_date=lake.utc_iso(datetime.fromisoformat(post["message_date"])),
            message_text=post["message_text"],
            views=post["views"],
            forwards=post["forwards"],
            has_media=post["has_media"],
            media_type="photo" if post["has_media"] else None,
            image_path=lake.image_relpath(CHANNEL, message_id) if has_photo else None,
            scraped_at=SCRAPED_AT,
            source="telethon",
            raw=post,
        ))
    return records


_ENTITY = re.compile(r"(@[A-Za-z0-9_]{5,32})|(09\d{8})")


def export_text(text: str) -> tuple[str | list, list[dict]]:
    """Text the way Telegram Desktop writes it: a plain string, or an array when entities are present."""
    parts: list = []
    entities: list[dict] = []
    position = 0
    for match in _ENTITY.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
            entities.append({"type": "plain", "text": text[position:match.start()]})
        kind = "mention" if match.group(1) else "phone"
        parts.append({"type": kind, "text": match.group(0)})
        entities.append({"type": kind, "text": match.group(0)})
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
        entities.append({"type": "plain", "text": text[position:]})
    if all(isinstance(p, str) for p in parts):
        return text, ([{"type": "plain", "text": text}] if text else [])
    return parts, entities


def export_message(post: dict, photo: str | None) -> dict:
    instant = datetime.fromisoformat(post["message_date"])
    text, entities = export_text(post["message_text"])
    message = {
        "id": post["message_id"],
        "type": "message",
        "date": instant.astimezone(EXPORT_CLOCK).replace(tzinfo=None).isoformat(),
        "date_unixtime": str(int(instant.timestamp())),
        "from": TITLE,
        "from_id": f"channel{EXPORT_CHANNEL_ID}",
    }
    if post["has_media"]:
        message["photo"] = photo or NOT_INCLUDED
    message["text"] = text
    message["text_entities"] = entities
    return message


def service_message(service_id: int, instant: datetime, action: str, **extra) -> dict:
    return {
        "id": service_id, "type": "service",
        "date": instant.astimezone(EXPORT_CLOCK).replace(tzinfo=None).isoformat(),
        "date_unixtime": str(int(instant.timestamp())),
        "actor": TITLE, "actor_id": f"channel{EXPORT_CHANNEL_ID}", "action": action,
        **extra, "text": "", "text_entities": [],
    }


def channel_records(fixtures: Path) -> list[MessageRecord]:
    """The posts of CHANNEL_DAYS from the channels' JSON Lines files, as lake records."""
    records = []
    for channel, days in CHANNEL_DAYS.items():
        for line in (fixtures / f"{channel}.jsonl").read_text(encoding="utf-8").splitlines():
            post = json.loads(line)
            if post["message_date"][:10] in days:
                records.append(MessageRecord.from_dict({
                    "channel_name": channel, "message_id": post["message_id"],
                    "message_date": post["message_date"], "source": "telethon",
                    "message_text": post["message_text"] or "", "views": post["views"], "raw": post}))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", type=Path, required=True,
                        help="the folder with messages.json and images/ of the channel's real posts")
    parser.add_argument("--channels", type=Path,
                        help="the folder with <channel>.jsonl files of more channels' real posts")
    parser.add_argument("--out", type=Path, default=PROJECT / "sample")
    args = parser.parse_args()

    if args.channels:
        shutil.rmtree(args.out / "channels", ignore_errors=True)
        records = channel_records(args.channels)
        lake.write_messages(args.out / "channels", records)
        print(f"sample: {len(records)} posts of {len(CHANNEL_DAYS)} channels in {args.out / 'channels'}")

    posts = sorted(json.loads((args.fixtures / "messages.json").read_text()), key=lambda p: p["message_id"])
    sources = sorted((args.fixtures / "images").glob("*.jpg"), key=lambda p: int(p.stem))
    # only what this script writes: sample/ also holds the labelled set and its README
    for built in ("lake", "desktop_export"):
        shutil.rmtree(args.out / built, ignore_errors=True)

    lake_root = args.out / "lake"
    shrunk = {}
    for source in sources:
        shrunk[int(source.stem)] = data = shrink(source)
        lake.atomic_write_bytes(lake.image_file(lake_root, CHANNEL, int(source.stem)), data)
    lake.write_messages(lake_root, lake_records(posts, set(shrunk)))

    export_root = args.out / "desktop_export"
    with_photo = {p["message_id"] for p in posts if p["has_media"] and p["message_id"] in shrunk}
    newest = sorted(with_photo)[-EXPORT_PHOTOS:]
    messages = [service_message(posts[0]["message_id"] - 1,
                                datetime.fromisoformat(posts[0]["message_date"]) - timedelta(minutes=5),
                                "edit_group_title", title=TITLE)]
    for post in posts:
        photo = None
        if post["message_id"] in newest:
            instant = datetime.fromisoformat(post["message_date"]).astimezone(EXPORT_CLOCK)
            photo = f"photos/photo_{post['message_id']}@{instant:%d-%m-%Y_%H-%M-%S}.jpg"
            lake.atomic_write_bytes(export_root / photo, shrunk[post["message_id"]])
        messages.append(export_message(post, photo))
    last = posts[-1]
    messages.append(service_message(last["message_id"] + 1,
                                    datetime.fromisoformat(last["message_date"]) + timedelta(minutes=1),
                                    "pin_message", message_id=last["message_id"]))
    export = {"name": TITLE, "type": "public_channel", "id": EXPORT_CHANNEL_ID, "messages": messages}
    (export_root / "result.json").write_text(json.dumps(export, ensure_ascii=False, indent=1) + "\n")
    print(f"sample: {len(posts)} posts, {len(shrunk)} photos in {lake_root}; export with "
          f"{len(messages)} messages and {len(newest)} photos in {export_root}")


if __name__ == "__main__":
    main()
