"""Waiting on the scheduler by condition: proving that something did NOT happen (no Asset-triggered run) needs
the scheduler to have looked, which its heartbeats tell, where a fixed sleep only hopes it had time."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for_heartbeats(health: Callable[[], dict], loops: int = 3, timeout: float = 120) -> None:
    """Return once the scheduler's heartbeat (GET /api/v2/monitor/health) has changed `loops` times."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        beat = (health().get("scheduler") or {}).get("latest_scheduler_heartbeat")
        if beat and (not seen or beat != seen[-1]):
            seen.append(beat)
        if len(seen) > loops:  # the first is the heartbeat before we started waiting
            return
        assert time.monotonic() < deadline, f"the scheduler heartbeated {len(seen)} time(s) in {timeout:.0f}s"
        time.sleep(1)
