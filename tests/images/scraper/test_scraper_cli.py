"""The `telegram-scraper` command line: help, the JSON summary line, exit codes, configuration, secrets.

Scrapes run against the Telegram stand-in (its servers are unreachable here); the secrets test runs the real
Telethon client in its own process, pointed at a closed local port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from telegram_scraper import config
from telegram_scraper.cli import main
from tests.images.scraper.telegram_standin import SAMPLE_LAKE, StandinClient, other_channel, sample_channel

PROJECT_DIR = Path(__file__).resolve().parents[3]
SCRAPER_VENV_CLI = PROJECT_DIR / ".venvs" / "scraper" / "bin" / "telegram-scraper"
CREDENTIAL_VARS = (config.API_ID_VAR, config.API_HASH_VAR, config.SESSION_VAR, config.CHANNELS_VAR)


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch):
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


def run(argv, capsys, client=None):
    factory = None if client is None else (lambda settings: client)
    code = main(argv, client_factory=factory)
    out, err = capsys.readouterr()
    return code, out, err


def summary_line(stdout: str) -> dict:
    return orjson.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("argv", "expected"), [
    ([], ["scrape", "import-export", "login", "TELEGRAM_SESSION", "Exit codes"]),
    (["scrape"], ["--channels", "--limit", "--refresh-days", "--max-flood-wait", "--retries", "--lake"]),
    (["import-export"], ["result.json", "--channel", "--lake"]),
    (["login"], ["session string", "TELEGRAM_API_ID", "docker run -it"]),
])
def test_every_command_has_help(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for word in expected:
        assert word in text


def test_scrape_prints_progress_and_a_one_line_json_summary_last(lake_root, capsys):
    code, out, err = run(["scrape", "--channels", "lobelia4cosmetics,chemed123", "--lake", str(lake_root)],
                         capsys, StandinClient([sample_channel(), other_channel()]))

    assert code == 0
    summary = summary_line(out)
    assert summary["ok"] is True and summary["command"] == "scrape"
    lobelia = summary["channels"]["lobelia4cosmetics"]
    assert {k: lobelia[k] for k in ("messages", "new", "updated", "images", "errors")} == {
        "messages": 100, "new": 100, "updated": 0, "images": 100, "errors": 0}
    assert summary["totals"]["new"] == 130 and summary["failed"] == []
    assert "lobelia4cosmetics: ok, 100 messages" in err and "chemed123: ok, 30 messages" in err


def test_exit_code_1_when_a_channel_fails_and_the_others_are_scraped(lake_root, capsys):
    code, out, _ = run(["scrape", "--channels", "tikvahpharma,lobelia4cosmetics", "--lake", str(lake_root)],
                       capsys, StandinClient([sample_channel()], private=("tikvahpharma",)))

    assert code == 1
    summary = summary_line(out)
    assert summary["ok"] is False and summary["failed"] == ["tikvahpharma"]
    assert summary["channels"]["lobelia4cosmetics"]["new"] == 100


@pytest.mark.parametrize("argv", [
    ["scrape", "--limit", "0"],
    ["scrape", "--refresh-days", "-1"],
    ["scrape", "--channels", "not a channel!"],
    ["scrape", "--channels", ","],
    ["scrape", "--channels", '["unclosed'],
    ["no-such-command"],
])
def test_usage_errors_exit_2_with_a_one_line_message(argv, lake_root, capsys):
    try:
        code = main([*argv, "--lake", str(lake_root)] if argv[0] == "scrape" else argv,
                    client_factory=lambda settings: StandinClient([]))
    except SystemExit as exit_info:  # argparse's own usage errors
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "error:" in err.strip().splitlines()[-1]


def test_missing_credentials_exit_2_naming_the_variables(lake_root, capsys):
    code, out, err = run(["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root)], capsys)

    assert code == 2 and out == ""
    assert err.strip() == ("telegram-scraper: error: missing environment variable(s): "
                           "TELEGRAM_API_ID, TELEGRAM_API_HASH, TELEGRAM_SESSION")


def test_a_malformed_session_exits_2_without_echoing_it(lake_root, capsys, monkeypatch):
    monkeypatch.setenv(config.API_ID_VAR, "1234567")
    monkeypatch.setenv(config.API_HASH_VAR, "0123456789abcdef0123456789abcdef")
    monkeypatch.setenv(config.SESSION_VAR, "1NOT-A-VALID-SESSION-xyzzy")

    code, _, err = run(["scrape", "--channels", "lobelia4cosmetics", "--lake", str(lake_root)], capsys)

    assert code == 2 and "TELEGRAM_SESSION is not a valid session string" in err
    assert "xyzzy" not in err and "0123456789abcdef" not in err


def test_channels_come_from_the_environment_or_the_command_line(lake_root, capsys, monkeypatch):
    seen = []

    def factory(settings):
        seen.append(list(settings.channels))
        return StandinClient([sample_channel()])

    monkeypatch.setenv(config.CHANNELS_VAR, "@Lobelia4Cosmetics, https://t.me/CheMed123 t.me/s/tikvahpharma")
    main(["scrape", "--lake", str(lake_root)], client_factory=factory)
    monkeypatch.setenv(config.CHANNELS_VAR, '["tikvahpharma", "@CheMed123"]')  # as an Airflow Variable
    main(["scrape", "--lake", str(lake_root)], client_factory=factory)
    monkeypatch.delenv(config.CHANNELS_VAR)
    main(["scrape", "--lake", str(lake_root), "--channels", "LOBELIA4COSMETICS"], client_factory=factory)
    capsys.readouterr()
    code, _, err = run(["scrape", "--lake", str(lake_root)], capsys)  # no list of its own: the DAGs name them

    assert seen[0] == ["lobelia4cosmetics", "chemed123", "tikvahpharma"]
    assert seen[1] == ["tikvahpharma", "chemed123"]
    assert seen[2] == ["lobelia4cosmetics"]
    assert code == 2 and "which channels?" in err


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_secrets_never_appear_in_stdout_stderr_or_the_log_file(tmp_path):
    """The real Telethon client, real-looking credentials, a session aimed at a closed local port."""
    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    session = StringSession()
    session.set_dc(2, "127.0.0.1", _closed_port())
    session.auth_key = AuthKey(os.urandom(256))
    secrets = {config.API_ID_VAR: "918273645", config.API_HASH_VAR: "5e3c1f0a9b8d7c6e5f4a3b2c1d0e9f8a",
               config.SESSION_VAR: session.save()}
    env = {**os.environ, **secrets, "DATA_LAKE_DIR": str(tmp_path / "lake")}
    log_file = tmp_path / "logs" / "scrape.log"
    command = ([str(SCRAPER_VENV_CLI)] if SCRAPER_VENV_CLI.exists()
               else [sys.executable, "-m", "telegram_scraper"])

    result = subprocess.run([*command, "--verbose", "--log-file", str(log_file), "scrape", "--channels",
                             "lobelia4cosmetics,chemed123", "--retries", "1", "--backoff", "0"],
                            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    assert result.returncode == 1, result.stderr[-2000:]
    summary = summary_line(result.stdout)
    assert summary["ok"] is False and summary["failed"] == ["lobelia4cosmetics", "chemed123"]
    assert "could not connect to Telegram" in summary["channels"]["chemed123"]["error_messages"][0]
    logged = log_file.read_text()
    assert "could not connect" in logged and "Traceback" not in result.stderr
    for name, value in secrets.items():
        for where, text in (("stdout", result.stdout), ("stderr", result.stderr), ("log file", logged)):
            assert value not in text, f"{name} leaked into {where}"
    session_part = secrets[config.SESSION_VAR][10:40]
    assert session_part not in result.stdout + result.stderr + logged


def test_credentials_repr_hides_every_secret():
    credentials = config.Credentials.from_env({config.API_ID_VAR: "918273645", config.API_HASH_VAR: "h" * 32,
                                               config.SESSION_VAR: "s" * 300})
    assert "918273645" not in repr(credentials) and "hhhh" not in str(credentials)
    assert "ssss" not in f"{credentials!r} {credentials}"


def test_import_export_writes_the_sample_export_and_prints_its_summary(lake_root, capsys):
    code, out, _ = run(["import-export", str(PROJECT_DIR / "sample" / "desktop_export"), "--lake", str(lake_root),
                        "--channel", "lobelia4cosmetics"], capsys)

    assert code == 0
    summary = summary_line(out)
    assert summary["command"] == "import-export" and summary["ok"] is True
    assert summary["imported"] == 100 and list(summary["channels"]) == ["lobelia4cosmetics"]
    assert len(list((lake_root / "raw" / "telegram_messages").glob("*/lobelia4cosmetics.json"))) == 5


def test_import_export_of_a_missing_path_exits_2(lake_root, capsys):
    code, out, err = run(["import-export", str(lake_root / "nowhere"), "--lake", str(lake_root)], capsys)
    assert code == 2 and out == "" and "no such export" in err


def test_import_export_of_an_unreadable_export_exits_1_in_one_line(lake_root, tmp_path, capsys):
    bad = tmp_path / "export"
    bad.mkdir()
    (bad / "result.json").write_text('{"about": "not an export"}')

    code, _, err = run(["import-export", str(bad), "--lake", str(lake_root)], capsys)

    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_login_refuses_to_run_without_a_terminal():
    result = subprocess.run([sys.executable, "-m", "telegram_scraper", "login"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60,
                            env={k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS})
    assert result.returncode == 2 and result.stdout == ""
    assert "login is interactive" in result.stderr and "Traceback" not in result.stderr


def test_sample_photos_are_what_the_stand_in_serves():
    # guards the fixtures the other tests rely on
    assert len(list((SAMPLE_LAKE / "raw" / "images" / "lobelia4cosmetics").glob("*.jpg"))) == 122
