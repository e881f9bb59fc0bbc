"""The load lock: one load of a raw table at a time, waited for a bounded time."""

from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors

LOCK_WAIT_S = 300.0  # how long a load waits for another load of the same table to finish


class LoadLockBusy(RuntimeError):
    """Another load of the same table held the lock for longer than this one may wait; names the holder."""


def take_load_lock(conn: psycopg.Connection, key: str, target: str, wait_s: float) -> None:
    """The load lock, waited for at most `wait_s`: a half-dead session that holds it must not block every
    later load until the task's own timeout, run after run."""
    conn.execute(f"set lock_timeout = '{max(1, int(wait_s * 1000))}ms'")
    try:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (key,))
    except pg_errors.LockNotAvailable:
        conn.rollback()
        holder = conn.execute(
            "select a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.client_addr::text, 'local'),"
            " a.state, a.backend_start, now() - a.state_change from pg_locks l join pg_stat_activity a using (pid)"
            " where l.locktype = 'advisory' and l.granted and l.objsubid = 1"
            " and l.objid::bigint = (hashtext(%s)::bigint & 4294967295)", (key,)).fetchone()
        said = ("its holder has gone meanwhile" if holder is None else
                f"held by PostgreSQL backend {holder[0]} (application {holder[1]}, client {holder[2]},"
                f" {holder[3]} for {holder[5]}, connected {holder[4]:%Y-%m-%d %H:%M:%S %Z}); if that session"
                f" is dead, end it with: select pg_terminate_backend({holder[0]})")
        raise LoadLockBusy(f"another load of raw.{target} still holds the load lock after"
                           f" {wait_s:g} s: {said}") from None
    finally:
        if not conn.broken:
            conn.execute("reset lock_timeout")
