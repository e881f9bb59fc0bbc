"""Fixtures of the scraper tests: the Telegram stand-in (telegram_standin.py) and a scrape runner."""

from __future__ import annotations

import asyncio
import pytest

pytest.importorskip("telethon", reason="telethon==1.45.0 is not installed in this environment (scripts/setup.sh)")
pytest.importorskip("telegram_scraper", reason="images/scraper is not installed here: pip install -e images/scraper")

from telegram_scraper.scraper import Settings, scrape  # noqa: E402
from tests.images.scraper.telegram_standin import SAMPLE_NOW  # noqa: E402


class Sleeps(list):
    """An asyncio.sleep that records what it was asked to wait, and waits not at all."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def run_scrape(lake_root, sleeps):
    def run(client, channels=("lobelia4cosmetics",), now=SAMPLE_NOW, **settings):
        settings.setdefault("batch_size", 25)
        config = Settings(lake_root=lake_root, channels=list(channels), **settings)
        return asyncio.run(scrape(client, config, sleep=sleeps, now=lambda: now))
    return run
