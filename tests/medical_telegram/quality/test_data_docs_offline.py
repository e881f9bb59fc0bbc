"""Data Docs that load nothing from the network: a real checkpoint run on a loaded warehouse, the pages it
writes, and those pages opened in a headless browser that may reach only this machine."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from medical_telegram import quality
from medical_telegram.quality import data_docs_offline
from medical_telegram.warehouse.loaders.messages import load_messages
from medical_telegram.warehouse.migrate import migrate

from tests.browser import DARK, STYLED, assert_styled_and_offline, probe, require_browser
from tests.support.gx_context import gx_context_copy

REPO = Path(__file__).resolve().parents[3]
VENDOR = REPO / "include" / "gx" / "vendor"
# Every host GX 1.24's pages load from: none may be left in a localized page, in any form.
CDN_HOSTS = ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "bootstrapcdn.com", "code.jquery.com",
             "great-expectations-web-assets.s3")
PREFIX = "/data-docs/site/"


@pytest.fixture(scope="module")
def docs(make_database, tmp_path_factory) -> SimpleNamespace:
    """A warehouse with the sample loaded and the raw_messages checkpoint run on it: its Data Docs site."""
    dsn = make_database("mtw_docs")
    with psycopg.connect(dsn) as conn:
        migrate(conn)
        load_messages(conn, REPO / "sample" / "lake")
    root = tmp_path_factory.mktemp("gx_docs")
    gx_context_copy(root, vendor=False)
    result = quality.run_checkpoint("raw_messages", dsn, root)
    assert result.success, result.as_dict()
    site = quality.data_docs_dir(root)
    return SimpleNamespace(root=root, site=site, index=site / "index.html",
                           validation=next((site / "validations").rglob("*.html")),
                           suite=site / "expectations" / "raw_telegram_messages.html")


@pytest.fixture(scope="module")
def served(docs):
    """The site over HTTP under a prefix, as the Airflow plugin serves it (/data-docs/site/...)."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path):
            path = unquote(urlsplit(path).path)
            if not path.startswith(PREFIX):
                return str(docs.site / "no-such-file")
            return super().translate_path("/" + path.removeprefix(PREFIX))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(docs.site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    yield lambda page: base + page.relative_to(docs.site).as_posix()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_ready() -> None:
    """First of a browser test's fixtures: skip (or fail, MEDTEL_REQUIRE_BROWSER=1) before building anything."""
    require_browser()


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "vendor" not in p.relative_to(site).parts)


def test_a_checkpoint_run_writes_pages_that_load_nothing_from_the_network(docs):
    found = pages(docs.site)
    assert {docs.index, docs.validation, docs.suite} <= set(found)
    for page in found:
        html = page.read_text(encoding="utf-8")
        assert not [host for host in CDN_HOSTS if host in html], page
        remote = [url for url in data_docs_offline.page_loads(html) if re.match(r"(https?:)?//", url)]
        assert remote == [], (page, remote)
        assert "static/vendor/" in html
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*static/vendor/[^>]*>", html):
            assert "integrity" not in tag and "crossorigin" not in tag, tag
    # navigation links stay as they were
    assert 'href="https://greatexpectations.io"' in docs.index.read_text(encoding="utf-8")


def test_every_local_reference_resolves(docs):
    urls = json.loads((VENDOR / "urls.json").read_text(encoding="utf-8"))
    for path in urls.values():
        assert (VENDOR / path).is_file(), path
        assert (docs.site / "static" / "vendor" / path).read_bytes() == (VENDOR / path).read_bytes(), path
    for page in pages(docs.site):
        for url in data_docs_offline.page_loads(page.read_text(encoding="utf-8")):
            if url.startswith(("data:", "#")):
                continue
            target = (page.parent / re.split(r"[?#]", url)[0]).resolve()
            assert target.is_file(), (page.relative_to(docs.site), url)
            assert docs.site in target.parents, (page, url)
    # what the vendored stylesheets load (Font Awesome's ../webfonts/...), at the same relative place
    vendor = docs.site / "static" / "vendor"
    checked = 0
    for css in vendor.rglob("*.css"):
        for match in re.finditer(r"""url\(\s*["']?([^"')]+)["']?\s*\)""", css.read_text(encoding="utf-8")):
            ref = match.group(1)
            if ref.startswith("data:"):
                continue
            assert (css.parent / ref.split("?")[0].split("#")[0]).is_file(), (css, ref)
            checked += 1
    assert checked >= 8  # the woff2 and ttf of Font Awesome's four fonts


def test_a_second_localize_changes_nothing(docs):
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in docs.site.rglob("*") if p.is_file()}
    counts = data_docs_offline.localize(docs.site)
    assert counts["pages"] == len(pages(docs.site)) >= 3
    assert {k: v for k, v in counts.items() if k != "pages"} == {
        "files_rewritten": 0, "urls_replaced": 0, "local_paths_fixed": 0, "vendor_files_copied": 0,
        "vendor_files_removed": 0}
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in docs.site.rglob("*") if p.is_file()} == before


def test_localize_rewrites_what_gx_alone_writes(docs):
    quality.get_context(docs.root).build_data_docs()  # GX's own build: CDN and S3 URLs again
    found = pages(docs.site)
    assert all("https://unpkg.com/" in p.read_text(encoding="utf-8") for p in found)
    counts = data_docs_offline.localize(docs.site)
    assert counts["files_rewritten"] == counts["pages"] == len(found)
    assert counts["urls_replaced"] >= 17 * len(found)  # 16 CDN tags and the logo on every page, + dark logo
    assert counts["local_paths_fixed"] >= 1  # GX's favicon link on validation pages is one "../" short
    assert data_docs_offline.localize(docs.site)["urls_replaced"] == 0


def test_an_unknown_external_load_fails_loudly_and_a_link_does_not(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<a href="https://greatexpectations.io">GX</a>'
                                     '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>')
    assert data_docs_offline.localize(site)["urls_replaced"] == 1
    (site / "other.html").write_text('<link rel="stylesheet" href="https://fonts.example.com/a.css">')
    with pytest.raises(data_docs_offline.OfflineDocsError, match=r"other\.html: loads https://fonts\.example"):
        data_docs_offline.localize(site)
    (site / "other.html").write_text("<style>@font-face { src: url('//fonts.example.com/a.woff2') }</style>")
    with pytest.raises(data_docs_offline.OfflineDocsError, match="//fonts.example.com/a.woff2"):
        data_docs_offline.localize(site)


def test_gx_pages_without_localize_fail_the_browser_checks(browser_ready, docs, served):
    """The browser checks below can fail: on GX's own pages (CDN URLs, aborted offline) every one does."""
    quality.get_context(docs.root).build_data_docs()
    try:
        report = probe(served(docs.index), evaluate=STYLED)
        assert len(report["offsite_requests"]) >= 16
        result = report["result"]
        assert result["navbar_display"] != "flex"
        assert not result["body_font"].startswith("-apple-system")
        assert result["jquery"] == "undefined" and result["bootstrap_table"] == "undefined"
        assert result["bootstrap_tables"] == 0
        assert result["font_awesome"] is False and result["logo"] is False
        assert report["console_errors"]  # "$ is not defined", failed loads
        report = probe(served(docs.validation), evaluate=STYLED)
        assert {"HTTP 404"} == {f["error"] for f in report["failed_requests"]}  # GX's own favicon path
    finally:
        data_docs_offline.localize(docs.site)


def test_pages_open_styled_and_offline_in_a_browser(browser_ready, docs, served, tmp_path):
    assert_styled_and_offline(probe(served(docs.index), evaluate=STYLED))
    # a validation page (four folders deep), in dark mode: bootstrap-dark and the dark logo load too
    shot = tmp_path / "validation.png"
    result = assert_styled_and_offline(probe(served(docs.validation), evaluate=STYLED, media_features=DARK,
                                             screenshot=shot))
    assert any(url.endswith("static/vendor/gx-web-assets/full_logo_dark.png") for url in result["resources"])
    assert any(url.endswith("bootstrap-prefers-dark.css") for url in result["resources"])
    assert shot.stat().st_size > 10_000
    # over file:// (the folder opened from disk) as well
    assert_styled_and_offline(probe(docs.suite.as_uri(), evaluate=STYLED))
