"""The scraper image, run as DockerOperator runs it: no network, the lake and the export bind-mounted.

It imports the bundled Telegram Desktop export; what lands in the lake must equal what the shared package's
importer writes when run on the host (same records, same photos), since both run the same code.
"""

from __future__ import annotations

import pytest

from medical_telegram.lake.export_importer import import_export
from medical_telegram.lake import MessageRecord

from tests.support.docker_support import SAMPLE, docker_run, last_json_line, read_lake_messages, readable_copy

pytestmark = pytest.mark.docker

EXPORT = SAMPLE / "desktop_export"


def test_import_export_in_the_container_fills_the_mounted_lake(scraper_image, shared_lake, tmp_path):
    export = readable_copy(EXPORT, tmp_path / "export")
    result = docker_run(scraper_image, ["import-export", "/export", "--lake", "/data"],
                        mounts={shared_lake: "/data", export: "/export"}, read_only=(export,),
                        entrypoint="telegram-scraper")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = last_json_line(result.stdout)
    assert summary["command"] == "import-export" and summary["ok"] is True

    in_container = read_lake_messages(shared_lake)
    host_lake = tmp_path / "host-lake"
    import_export(export, host_lake)
    on_host = read_lake_messages(host_lake)

    assert len(in_container) == len(on_host) == 100
    assert set(in_container) == set(on_host)
    for key, record in in_container.items():
        MessageRecord.from_dict(record)  # the lake contract holds
        assert record["source"] == "desktop_export"
        expected = {k: v for k, v in on_host[key].items() if k != "scraped_at"}
        assert {k: v for k, v in record.items() if k != "scraped_at"} == expected, key

    photos = sorted(p.relative_to(shared_lake) for p in (shared_lake / "raw" / "images").rglob("*.jpg"))
    assert photos == sorted(p.relative_to(host_lake) for p in (host_lake / "raw" / "images").rglob("*.jpg"))
    assert len(photos) == 20
    for relpath in photos:
        assert (shared_lake / relpath).read_bytes() == (host_lake / relpath).read_bytes()
    assert not (shared_lake / "quarantine").exists() or not any((shared_lake / "quarantine").rglob("*"))


def test_the_image_runs_as_a_non_root_user_and_reports_errors_in_one_line(scraper_image, shared_lake):
    whoami = docker_run(scraper_image, ["-c", "id -u"], entrypoint="sh")
    assert whoami.returncode == 0 and whoami.stdout.strip() != "0"

    missing = docker_run(scraper_image, ["import-export", "/export/nowhere", "--lake", "/data"],
                         mounts={shared_lake: "/data"}, entrypoint="telegram-scraper")
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr
    assert "error" in missing.stderr.strip().splitlines()[-1]
