"""Query parameters shared by several routes, with their limits in one place."""

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator

CHANNEL_PATTERN = r"^@?[A-Za-z0-9_]{1,64}$"

ChannelName = Annotated[
    str,
    Path(description="the channel's @username (lower case; a leading @ is accepted)", pattern=CHANNEL_PATTERN),
]
ChannelFilter = Annotated[
    str | None, Query(description="only this channel (@username)", pattern=CHANNEL_PATTERN, max_length=65)
]
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: Any) -> Any:
    # Pydantic would also take "0" or "1700000000" as a Unix time; a report's date range must be a real day.
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]
Since = Annotated[IsoDay | None, Query(description="first day included (UTC, YYYY-MM-DD)")]
Until = Annotated[IsoDay | None, Query(description="last day included (UTC, YYYY-MM-DD)")]


def channel_key(name: str) -> str:
    """Channel names are stored lower case and without the @."""
    return name.removeprefix("@").lower()


def check_range(since: date | None, until: date | None) -> None:
    if since and until and since > until:
        # The same shape as every other 422, so clients (and the OpenAPI schema) see one error format.
        raise RequestValidationError([
            {"loc": ("query", "since"), "msg": f"since ({since}) is after until ({until})", "type": "value_error"}
        ])


def date_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day
