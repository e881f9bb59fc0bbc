"""The real Telethon client, built from the environment's credentials (the tests inject a stand-in)."""

from __future__ import annotations

from typing import Any

from telegram_scraper.config import SESSION_VAR, ConfigError, Credentials
from telegram_scraper.scraper import Settings


def parse_session(text: str) -> Any:
    """The StringSession in TELEGRAM_SESSION; a malformed one is a configuration error (exit 2)."""
    from telethon.sessions import StringSession

    try:
        session = StringSession(text)
    except Exception:  # noqa: BLE001 - whatever the decoder raised, its text may echo the secret
        session = None
    if session is None or session.auth_key is None:
        raise ConfigError(f"{SESSION_VAR} is not a valid session string "
                          "(create one with `telegram-scraper login`)")
    return session


def make_client(credentials: Credentials, settings: Settings) -> Any:
    from telethon import TelegramClient

    return TelegramClient(
        parse_session(credentials.session), credentials.api_id, credentials.api_hash,
        # Telethon sleeps through flood waits up to this itself, without restarting the iteration.
        flood_sleep_threshold=int(settings.max_flood_wait),
        connection_retries=settings.retries,
        request_retries=settings.retries,
        retry_delay=max(1, int(settings.backoff)) if settings.backoff > 0 else 0,
        receive_updates=False,  # history only: no update stream to keep up with
    )


async def ensure_authorized(client: Any) -> None:
    """Connect, and refuse a session that is not logged in (rather than prompting for a phone)."""
    await client.connect()
    if not await client.is_user_authorized():
        await client.disconnect()
        raise ConfigError(f"{SESSION_VAR} is not logged in: create a session with `telegram-scraper login`")
