"""What can go wrong while scraping, and how it is said in one line."""

from __future__ import annotations

import asyncio

from telethon import errors

# Worth another try: the network, and Telegram's own transient failures.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, OSError, asyncio.TimeoutError, errors.ServerError,
    *((errors.TimedOutError,) if hasattr(errors, "TimedOutError") else ()),
)
# Not worth another try: the lake cannot be written (these are OSErrors too).
LAKE_ERRORS = (PermissionError, IsADirectoryError, NotADirectoryError)


class ChannelFailed(Exception):
    """This channel cannot be scraped now; the others go on."""


class NoFile(Exception):
    """Telegram sent nothing for a message's media."""


def describe(error: BaseException) -> str:
    """One line naming what went wrong, for the summary and the log."""
    if isinstance(error, errors.ChannelPrivateError):
        return "the channel is private (or you were banned from it)"
    if isinstance(error, errors.UsernameNotOccupiedError | errors.UsernameInvalidError):
        return "no channel has this username (renamed or deleted?)"
    if isinstance(error, errors.ChannelInvalidError | errors.ChannelBannedError | errors.ChannelPublicGroupNaError):
        return f"the channel is not available ({type(error).__name__})"
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
