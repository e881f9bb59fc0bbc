"""The API's role (medtel_api) reads the marts and the serving tables and can write nothing."""

from __future__ import annotations

import psycopg
import pytest

WRITES = [
    "insert into marts.dim_channels (channel_key, channel_name) values ('x', 'x')",
    "update marts.fct_messages set view_count = 0",
    "delete from api.api_top_products",
    "truncate marts.fct_messages",
    "drop table api.api_message_search",
    "create table api.intruder (a int)",
    "create table marts.intruder (a int)",
    "create table public.intruder (a int)",
    "create schema intruder",
    "insert into raw.telegram_messages (channel_name) values ('x')",
]


def test_reader_can_read_the_marts_and_serving_tables(reader_dsn):
    with psycopg.connect(reader_dsn) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "medtel_api"
        assert conn.execute("select count(*) from marts.fct_messages").fetchone()[0] == 100
        assert conn.execute("select count(*) from api.api_top_products").fetchone()[0] > 0


@pytest.mark.parametrize("statement", WRITES)
def test_reader_cannot_write(reader_dsn, statement):
    with psycopg.connect(reader_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_reader_cannot_read_raw(reader_dsn):
    with psycopg.connect(reader_dsn) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.telegram_messages limit 1")


def test_api_serves_through_the_reader(api, reader_dsn):
    """The API under test runs with the reader's DSN (tests/api/conftest.py) and answers from it."""
    assert psycopg.conninfo.conninfo_to_dict(reader_dsn)["user"] == "medtel_api"
    assert api.get("/api/channels").status_code == 200
