"""`python -m telegram_scraper` runs the same command line as the `telegram-scraper` console script."""

from telegram_scraper.cli import main

raise SystemExit(main())
