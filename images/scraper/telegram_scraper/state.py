"""The per-channel high-water mark, kept in the lake (state/scraper/<channel>.json) so a container has no
hidden state. It is written atomically, and only after the messages it covers are durable in the lake."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson

from medical_telegram.lake import atomic_write_bytes, channel_lock, utc_now

STATE_DIR = "state/scraper"


class StateError(ValueError):
    """A state file that cannot be read: the channel is skipped rather than re-scraped from scratch."""


@dataclasses.dataclass
class ChannelState:
    channel: str
    last_message_id: int = 0
    channel_id: int | None = None
    updated_at: str | None = None
    # Photos that failed, by message id, with the number of runs that tried them: the mark waits below them.
    failed_photos: dict[str, int] = dataclasses.field(default_factory=dict)


def state_file(root: Path, channel: str) -> Path:
    return root / STATE_DIR / f"{channel}.json"


def load(root: Path, channel: str) -> ChannelState:
    path = state_file(root, channel)
    if not path.exists():
        return ChannelState(channel)
    try:
        data = orjson.loads(path.read_bytes())
        last = data["last_message_id"]
        if isinstance(last, bool) or not isinstance(last, int) or last < 0:
            raise ValueError("last_message_id is not a non-negative integer")
        failed = data.get("failed_photos") or {}
        if not isinstance(failed, dict) or not all(isinstance(v, int) for v in failed.values()):
            raise ValueError("failed_photos is not an object of attempt counts")
        return ChannelState(channel, last, data.get("channel_id"), data.get("updated_at"), failed)
    except (ValueError, KeyError, TypeError) as error:
        raise StateError(f"unreadable state file {path}: {error}") from None


def save(root: Path, state: ChannelState) -> None:
    """Written under the channel's lake lock (after the messages it covers are durable, and as durably: the
    rename is fsynced with its folder), so a writer of the channel's files never sees it half-updated."""
    state.updated_at = utc_now()
    with channel_lock(root, state.channel):
        atomic_write_bytes(state_file(root, state.channel),
                           orjson.dumps(dataclasses.asdict(state), option=orjson.OPT_INDENT_2) + b"\n")
