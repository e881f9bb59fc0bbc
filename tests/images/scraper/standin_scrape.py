"""Run `telegram-scraper scrape` in its own process against the Telegram stand-in, for the tests that kill it.

    python -m tests.images.scraper.standin_scrape HANG_AFTER SCRAPE-ARGS...   (from the repository root)

The stand-in prints HANG_MARKER to stderr and hangs once HANG_AFTER messages of the new-message read were
yielded, so a test can SIGKILL the process in the middle of a run.
"""

from __future__ import annotations

import sys

from telegram_scraper.cli import main
from tests.images.scraper.telegram_standin import Fault, StandinClient, sample_channel

if __name__ == "__main__":
    hang_after = int(sys.argv[1])
    channel = sample_channel(faults=[Fault(after=hang_after, error=None, reverse=True)])
    raise SystemExit(main(sys.argv[2:], client_factory=lambda settings: StandinClient([channel])))
