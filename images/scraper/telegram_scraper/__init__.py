"""Telegram channels and Telegram Desktop exports → the medical Telegram data lake.

The library holds the logic (`scraper.scrape`, `records.to_record`, `state`), `cli` only parses arguments.
"""

__version__ = "0.1.0"
