"""Row-level rules are dbt tests (one owner per rule; Great Expectations checks counts across layers): the
rules that moved from the GX suites catch what they caught there."""

from __future__ import annotations

import psycopg

from medical_telegram.transform.dbt_runner import run_dbt
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate
from tests.support.sample_data import SAMPLE_DIR


def test_a_channel_name_that_is_no_username_fails_the_staging_tests(make_database):
    dsn = make_database("mtw_rules")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, SAMPLE_DIR / "lake")
    assert run_dbt(["build", "--select", "stg_telegram_messages"], dsn, check=False).returncode == 0
    with psycopg.connect(dsn) as conn:
        conn.execute("insert into raw.telegram_messages (channel_name, message_id, message_date, source,"
                     " scraped_at, raw, lake_file) values ('Not A Channel!', 1, now(), 'telethon', now(), '{}', 'x')")
    failed = run_dbt(["build", "--select", "stg_telegram_messages"], dsn, check=False)
    assert failed.returncode != 0
    assert "matches_pattern_stg_telegram_messages_channel_name" in failed.stdout
