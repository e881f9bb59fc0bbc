"""Logging to stderr (and optionally a file), with the credentials masked in every line.

Secrets are never passed to a log call on purpose; the mask is a second line of defence for what a
library (Telethon) or an exception's text might carry.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

MASK = "<redacted>"
_SECRETS: set[str] = set()


def add_secrets(*values: str) -> None:
    # Short values would mask ordinary words and numbers; real hashes and sessions are long.
    _SECRETS.update(v for v in values if v and len(v) >= 5)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(verbose: bool = False, log_file: Path | None = None) -> None:
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Telethon's INFO lines (connecting, reconnecting) are noise in a task log unless asked for.
    logging.getLogger("telethon").setLevel(logging.INFO if verbose else logging.WARNING)
