"""Configuration from the environment: which channels, and the Telegram credentials.

Credentials come from the environment only (the Airflow connection `telegram_api` passes them as private
environment) and never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

from medical_telegram.lake import CHANNEL_NAME_RE

# No list of its own: the channels are named by --channels or TELEGRAM_CHANNELS. The project's one registry is
# the dbt seed include/dbt/medical_warehouse/seeds/channels.csv, which the DAGs pass on.
API_ID_VAR = "TELEGRAM_API_ID"
API_HASH_VAR = "TELEGRAM_API_HASH"
SESSION_VAR = "TELEGRAM_SESSION"
CHANNELS_VAR = "TELEGRAM_CHANNELS"

_LINK_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:s/)?", re.IGNORECASE)


class ConfigError(ValueError):
    """Bad usage or configuration: the CLI exits with code 2."""


def channel_name(text: str) -> str:
    """`@CheMed123`, `https://t.me/CheMed123` or `CheMed123` → `chemed123` (the lake's channel name)."""
    name = _LINK_PREFIX.sub("", text.strip()).lstrip("@").strip("/").lower()
    if not CHANNEL_NAME_RE.fullmatch(name):
        raise ConfigError(f"not a public channel username: {text.strip()[:64]!r}")
    return name


def parse_channels(value: str | None) -> list[str]:
    """A comma (or whitespace) separated list, or a JSON list (as the Airflow Variable may hold it) → unique
    lake channel names, in the order given."""
    if value is None:
        raise ConfigError(f"which channels? --channels or {CHANNELS_VAR} (comma-separated usernames or t.me links)")
    parts: list = re.split(r"[,\s]+", value)
    if value.strip().startswith("["):
        try:
            parts = json.loads(value)
        except ValueError:
            raise ConfigError("the channel list looks like JSON but is not valid JSON") from None
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise ConfigError("a JSON channel list must be a list of strings")
    names = [channel_name(part) for part in parts if part.strip()]
    if not names:
        raise ConfigError("the channel list is empty")
    return list(dict.fromkeys(names))


def channels_from(arg: str | None, environ: dict[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    return parse_channels(arg if arg is not None else environ.get(CHANNELS_VAR) or None)


@dataclasses.dataclass(frozen=True)
class Credentials:
    api_id: int = dataclasses.field(repr=False)
    api_hash: str = dataclasses.field(repr=False)
    session: str = dataclasses.field(repr=False)

    def __repr__(self) -> str:  # never show a secret, even in a traceback's locals
        return "Credentials(<redacted>)"

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """The values a log filter must never let through."""
        return tuple(s for s in (self.api_hash, self.session) if s)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, need_session: bool = True) -> Credentials:
        environ = os.environ if environ is None else environ
        wanted = [API_ID_VAR, API_HASH_VAR] + ([SESSION_VAR] if need_session else [])
        missing = [name for name in wanted if not environ.get(name, "").strip()]
        if missing:
            raise ConfigError(f"missing environment variable(s): {', '.join(missing)}")
        try:
            api_id = int(environ[API_ID_VAR].strip())
        except ValueError:
            raise ConfigError(f"{API_ID_VAR} must be an integer") from None
        return cls(api_id, environ[API_HASH_VAR].strip(), environ.get(SESSION_VAR, "").strip())
