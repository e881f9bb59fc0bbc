"""Incremental, resumable scraping of public channels into the lake.

Per channel: new messages are read oldest first, above the channel's high-water mark, and written in
batches; the mark advances only after a batch is durable in the lake (and never inside an album), so a run
killed at any point is continued by the next one with no duplicates (the lake merges by message id) and no
gaps. `refresh_days` re-reads the recent messages below the mark, newest first, so views and forwards stay
current and edits are picked up.

The client is injected: the command line passes Telethon's TelegramClient, the tests a stand-in with the
same `get_entity` / `iter_messages` / `download_media` methods.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telethon import errors, utils
from tenacity import (AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_not_exception_type,
                      stop_after_attempt, wait_exponential)
from telethon.tl import types

from medical_telegram import lake
from telegram_scraper import records, state
from telegram_scraper.failures import LAKE_ERRORS, NETWORK_ERRORS, ChannelFailed, NoFile, describe  # noqa: F401
from telegram_scraper.summary import ChannelResult, RunSummary

log = logging.getLogger("telegram_scraper")

# An album holds at most 10 messages: reading this many past a limit always completes the last album.
ALBUM_MAX = 10
MEDIA_DIR = "raw/media"
# Runs that try a failed photo again before the high-water mark moves on past it: a photo Telegram never
# serves must not make every later run re-read the channel from that message.
PHOTO_ATTEMPTS = 3

Sleep = Callable[[float], Awaitable[Any]]


@dataclasses.dataclass
class Settings:
    lake_root: Path
    channels: Sequence[str]
    limit: int | None = None  # new messages read per channel and run (None: all)
    refresh_days: int = 0  # re-read this many days of already-scraped messages
    max_flood_wait: float = 300  # wait out a FloodWaitError up to this many seconds, else give up the channel
    max_flood_waits: int = 10  # and at most this many times per channel
    retries: int = 5  # network errors: tries after the first, with exponential backoff
    backoff: float = 2.0  # the first retry's delay in seconds; doubles each time, at most max_backoff
    max_backoff: float = 300.0
    batch_size: int = 100  # messages per durable write (and state advance)
    download_photos: bool = True
    download_media: frozenset[str] = frozenset()  # other media types to download too, e.g. {"video"}


class ChannelScraper:
    def __init__(self, client: Any, settings: Settings, channel: str, *, sleep: Sleep,
                 now: Callable[[], datetime]) -> None:
        self.client = client
        self.settings = settings
        self.channel = channel
        self.root = settings.lake_root
        self.sleep = sleep
        self.now = now
        self.result = ChannelResult(channel)
        self.state = state.ChannelState(channel)
        self.entity: Any = None
        self.title: str | None = None
        self._read_new = 0  # new messages made durable this run, against --limit
        self._refresh_below = 0  # the refresh reads below this id (lowered as it goes, for a retry)
        self._flood_waits = 0
        self._hold_below: int | None = None  # a new message whose photo failed: the mark stays below it
        self._photo_failed: set[int] = set()  # message ids whose photo failed in this run

    async def run(self) -> ChannelResult:
        try:
            self.state = state.load(self.root, self.channel)
            self.result.last_message_id = self.state.last_message_id
            await self._retrying("resolve", self._resolve)
            log.info("%s: reading messages after id %d", self.channel, self.state.last_message_id)
            refresh_below = self.state.last_message_id + 1
            await self._retrying("new messages", self._read_new_messages)
            if self.settings.refresh_days > 0 and refresh_below > 1:
                self._refresh_below = refresh_below
                await self._retrying("refresh", self._refresh)
        except ChannelFailed as error:
            self.result.add_error(str(error), fatal=True)
        except state.StateError as error:
            self.result.add_error(str(error), fatal=True)
        except Exception as error:  # noqa: BLE001 - one channel's surprise must not stop the others
            log.debug("%s: unexpected error", self.channel, exc_info=True)
            self.result.add_error(describe(error), fatal=True)
        self.result.last_message_id = self.state.last_message_id
        r = self.result
        level = logging.INFO if r.status == "ok" else logging.WARNING
        log.log(level, "%s: %s, %d messages (%d new, %d updated, %d unchanged), %d images, %d photos failed,"
                " %d NUL characters dropped, %d errors%s, high-water mark %d", self.channel, r.status, r.messages,
                r.new, r.updated, r.unchanged, r.images, r.photos_failed, r.nul_stripped, r.errors,
                f" ({r.error_messages[-1]})" if r.error_messages else "", r.last_message_id)
        return r

    # -- Telegram's limits ---------------------------------------------------------------------------

    async def _retrying(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` (which restarts from what is durable) through flood waits and network errors.

        Network errors: tenacity, exponential backoff (--retries, --backoff). Flood waits are not errors
        to back off from: Telegram says how long to wait, and the limits are ours (--max-flood-wait/-waits).
        """
        network = AsyncRetrying(
            retry=retry_if_exception_type(NETWORK_ERRORS) & retry_if_not_exception_type(LAKE_ERRORS),
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=wait_exponential(multiplier=self.settings.backoff, max=self.settings.max_backoff),
            sleep=self.sleep, reraise=True, before_sleep=lambda state: self._log_retry(what, state))
        while True:
            try:
                return await network(step)
            except errors.FloodWaitError as error:
                await self._wait_flood(what, error.seconds)
            except LAKE_ERRORS as error:  # the lake, not the network: no retry will fix it
                raise ChannelFailed(f"cannot write the lake: {describe(error)}") from None
            except NETWORK_ERRORS as error:
                raise ChannelFailed(f"{what}: gave up after {self.settings.retries} retries: "
                                    f"{describe(error)}") from None

    def _log_retry(self, what: str, state: RetryCallState) -> None:
        log.warning("%s: %s (%s); retry %d/%d in %.1f s", self.channel, describe(state.outcome.exception()),
                    what, state.attempt_number, self.settings.retries, state.upcoming_sleep)

    async def _wait_flood(self, what: str, seconds: int) -> None:
        if seconds > self.settings.max_flood_wait:
            raise ChannelFailed(f"Telegram asks to wait {seconds} s ({what}), more than the "
                                f"{self.settings.max_flood_wait:g} s allowed (--max-flood-wait)")
        self._flood_waits += 1
        if self._flood_waits > self.settings.max_flood_waits:
            raise ChannelFailed(f"more than {self.settings.max_flood_waits} flood waits")
        log.warning("%s: Telegram asks to wait %d s (%s); waiting", self.channel, seconds, what)
        self.result.flood_wait_s += seconds
        await self.sleep(seconds)

    async def _resolve(self) -> None:
        try:
            entity = await self.client.get_entity(self.channel)
        except NETWORK_ERRORS + (errors.FloodWaitError,):
            raise
        except ValueError as error:  # Telethon's "No user has ... as username", and malformed names
            raise ChannelFailed(f"cannot resolve @{self.channel}: {describe(error)}") from None
        except (errors.RPCError, TypeError) as error:
            raise ChannelFailed(describe(error)) from None
        if not isinstance(entity, types.Channel):
            raise ChannelFailed(f"@{self.channel} is a {type(entity).__name__.lower()}, not a channel")
        if self.state.channel_id is not None and entity.id != self.state.channel_id:
            # A reused username would mix two channels' message ids under one name.
            raise ChannelFailed(f"@{self.channel} now belongs to another channel (id {entity.id}, the state "
                                f"has {self.state.channel_id}); move {state.STATE_DIR}/{self.channel}.json "
                                f"away to start it afresh")
        self.entity = entity
        self.title = entity.title

    # -- reading ---------------------------------------------------------------------------------------

    async def _read_new_messages(self) -> None:
        """Oldest first above the high-water mark; each batch made durable, then the mark advanced."""
        limit = self.settings.limit  # counts over the whole run, retries included
        if limit is not None and self._read_new >= limit:
            return
        batch: list[Any] = []
        async for message in self.client.iter_messages(
                self.entity, min_id=self.state.last_message_id, reverse=True,
                limit=None if limit is None else limit - self._read_new + ALBUM_MAX):
            if limit is not None and self._read_new + len(batch) >= limit and not records.same_album(batch, message):
                break
            if len(batch) >= self.settings.batch_size and not records.same_album(batch, message):
                await self._write(batch, advance=True)
                batch = []
            batch.append(message)
        await self._write(batch, advance=True)

    async def _refresh(self) -> None:
        """Newest first below the mark as it was when the run began, back to `refresh_days` ago."""
        cutoff = self.now() - timedelta(days=self.settings.refresh_days)
        batch: list[Any] = []
        async for message in self.client.iter_messages(self.entity, max_id=self._refresh_below):
            if message.date is not None and message.date < cutoff:
                break
            if len(batch) >= self.settings.batch_size and not records.same_album(batch, message):
                await self._write(batch, advance=False)
                self._refresh_below = min(m.id for m in batch)  # a retry resumes below what is done
                batch = []
            batch.append(message)
        await self._write(batch, advance=False)
        self._refresh_below = 1

    # -- writing ---------------------------------------------------------------------------------------

    async def _write(self, batch: list[Any], *, advance: bool) -> None:
        if not batch:
            return
        scraped_at = lake.utc_now()
        new_records = []
        nuls = [0]
        for message in batch:
            if not isinstance(message, types.Message):
                self.result.skipped += 1  # service messages and empty slots: no post to keep
                continue
            image_path = await self._media(message, new=advance)
            new_records.append(records.to_record(message, channel=self.channel, channel_title=self.title,
                                                 image_path=image_path, scraped_at=scraped_at, nuls=nuls))
        if nuls[0]:
            log.warning("%s: %d NUL character(s) dropped (PostgreSQL cannot store them)", self.channel, nuls[0])
            self.result.nul_stripped += nuls[0]
        changed = self._compare(new_records)
        lake.write_messages(self.root, changed)
        self.result.messages += len(new_records)
        if advance:
            self._read_new += len(batch)
            mark = max(m.id for m in batch)
            if self._hold_below is not None:
                mark = min(mark, self._hold_below - 1)
            self.state.last_message_id = max(self.state.last_message_id, mark)
            self.state.channel_id = self.entity.id
            state.save(self.root, self.state)
            self.result.last_message_id = self.state.last_message_id
            log.info("%s: %d messages durable, high-water mark %d%s", self.channel, len(batch),
                     self.state.last_message_id,
                     f" (held below message {self._hold_below}, whose photo failed)" if self._hold_below else "")

    def _compare(self, new_records: list[lake.MessageRecord]) -> list[lake.MessageRecord]:
        """Count new / updated / unchanged against the lake; return only what must be written, so a
        refresh that changes nothing leaves the day files (and the loader's checksums) as they were."""
        existing: dict[Path, dict[int, dict]] = {}
        changed = []
        for record in new_records:
            path = lake.messages_file(self.root, record.channel_name, record.message_date)
            if path not in existing:
                existing[path] = ({r["message_id"]: r for r in lake.read_messages(path)}
                                  if path.exists() else {})
            old = existing[path].get(record.message_id)
            if old is None:
                self.result.new += 1
            elif records.plain_fields(old) != records.plain_fields(lake.merge_record(old, record.to_dict())):
                self.result.updated += 1
            else:
                self.result.unchanged += 1
                continue
            changed.append(record)
        return changed

    async def _media(self, message: types.Message, *, new: bool = True) -> str | None:
        """Download the photo (largest size) once; other media only when configured. Returns image_path."""
        kind = records.media_type(message.media)
        if kind == "photo" and self.settings.download_photos:
            target = lake.image_file(self.root, self.channel, message.id)
            if target.exists():
                return lake.image_relpath(self.channel, message.id)
            if not await self._download(message, target):
                self._photo_failed_at(message.id, new=new)
                return None
            self.state.failed_photos.pop(str(message.id), None)
            return lake.image_relpath(self.channel, message.id)
        if kind is not None and kind in self.settings.download_media:
            ext = utils.get_extension(message.media) or ".bin"
            target = self.root / MEDIA_DIR / self.channel / f"{message.id}{ext}"
            if not target.exists():
                await self._download(message, target)
        return None

    def _photo_failed_at(self, message_id: int, *, new: bool) -> None:
        """Keep the high-water mark below a new message whose photo failed, so the next run tries it again;
        after PHOTO_ATTEMPTS runs the mark moves on (the post is in the lake, without its photo)."""
        if message_id in self._photo_failed:
            return  # a retry of the same batch within this run
        self._photo_failed.add(message_id)
        if not new:
            return  # below the mark already: the next refresh tries it again
        key = str(message_id)
        attempts = self.state.failed_photos.get(key, 0) + 1
        self.state.failed_photos[key] = attempts
        if attempts >= PHOTO_ATTEMPTS:
            self.result.photos_given_up += 1  # the load task alerts on it (orchestration.alerts.losses_alert)
            log.error("%s: the photo of message %d failed in %d runs; not holding the high-water mark for it"
                      " any longer", self.channel, message_id, attempts)
            return
        if self._hold_below is None or message_id < self._hold_below:
            self._hold_below = message_id

    async def _download(self, message: types.Message, target: Path) -> bool:
        """To a unique temporary name beside the target, fsynced, checked, then renamed: a half-written or
        broken file is never seen under the target's name.

        Network errors and flood waits propagate (the batch is retried and finished downloads are kept);
        an error Telegram gives for this one file, or a photo that does not decode, is recorded (the photo
        quarantined with the reason) and the message is kept without it.
        """
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = lake.temp_name(target, ".part")
        try:
            downloaded = await self.client.download_media(message, file=str(partial))
            if not downloaded:
                raise NoFile("Telegram returned no file")
            partial = Path(downloaded)
            lake.fsync_file(partial)
            if target.suffix == ".jpg":
                lake.check_image(partial)
            os.replace(partial, target)
            lake.fsync_dir(target.parent)
        except NETWORK_ERRORS + (errors.FloodWaitError,):
            partial.unlink(missing_ok=True)
            raise
        except lake.ImageError as error:
            reason = f"message {message.id}: the photo downloaded does not decode ({error}); kept without it"
            relpath = f"{lake.IMAGES_DIR}/{self.channel}/{message.id}.jpg"
            quarantined = self.root / lake.QUARANTINE_DIR / relpath
            quarantined.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(partial, quarantined)
            lake.quarantine(self.root, relpath, reason)
            log.warning("%s: %s", self.channel, reason)
            self.result.add_photo_failure(reason)
            return False
        except (errors.RPCError, NoFile) as error:
            partial.unlink(missing_ok=True)
            reason = f"message {message.id}: media not downloaded: {describe(error)}"
            log.warning("%s: %s", self.channel, reason)
            if target.suffix == ".jpg":
                self.result.add_photo_failure(reason)
            else:
                self.result.add_error(reason)
            return False
        if target.suffix == ".jpg":
            self.result.images += 1
        return True


async def scrape(client: Any, settings: Settings, *, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] | None = None) -> RunSummary:
    """Scrape every configured channel in turn; one that fails is reported and the others go on."""
    clock = now or (lambda: datetime.now(UTC))
    results = []
    for channel in settings.channels:
        results.append(await ChannelScraper(client, settings, channel, sleep=sleep, now=clock).run())
    return RunSummary(results)
