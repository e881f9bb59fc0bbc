"""A headless-browser probe for tests: open a page in Debian's Chromium, offline, and report what it did.

    from tests.browser import probe, require_browser

    require_browser()                      # skip (or, with MEDTEL_REQUIRE_BROWSER=1, fail) when it can't run
    report = probe("http://127.0.0.1:8000/index.html", evaluate="typeof jQuery")
    assert report["offsite_requests"] == [] and report["result"] == "function"

probe() runs tests/browser/probe.mjs (puppeteer-core, pinned in package.json; `make setup` runs
`npm ci --prefix tests/browser`). The browser may reach only 127.0.0.1 / localhost / [::1] and file:, data:,
blob: URLs; every other request is aborted and listed in `offsite_requests`. See probe.mjs for the options
and the report.

MEDTEL_REQUIRE_BROWSER=1 (set by .ci/run on CI, like MEDTEL_REQUIRE_DOCKER) turns the skip of a test that
needs the browser into a failure that keeps the reason: CI cannot pass without running the browser.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

BROWSER_DIR = Path(__file__).resolve().parent
PROBE = BROWSER_DIR / "probe.mjs"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


class ProbeError(RuntimeError):
    """probe.mjs could not open the page (or did not answer)."""


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def browser_missing() -> str | None:
    """Why the probe cannot run here, or None when it can."""
    chromium = chromium_path()
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        return (f"no Chromium at {chromium} (apt-get install chromium; CHROMIUM_PATH names another)")
    if shutil.which("node") is None:
        return "no node on PATH (Node.js 18+ runs tests/browser/probe.mjs)"
    if not (BROWSER_DIR / "node_modules" / "puppeteer-core" / "package.json").is_file():
        return "puppeteer-core is not installed (make setup, or npm ci --prefix tests/browser)"
    return None


def require_browser() -> None:
    """Skip the calling test when the browser cannot run, printing why; fail instead under
    MEDTEL_REQUIRE_BROWSER=1."""
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("MEDTEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MEDTEL_REQUIRE_BROWSER=1 (CI) but the browser cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def probe(url: str, *, timeout: float = 120, **options) -> dict:
    """Open `url` in the headless browser and return probe.mjs's report: status, title, offsite_requests,
    failed_requests, console_errors, result (of `evaluate`), screenshot.

    Options as probe.mjs takes them: cookies, headers, wait_for, evaluate, screenshot, viewport,
    media_features, timeout_ms. `timeout` (seconds) bounds the whole run; raises ProbeError on failure.
    """
    request = {"url": url, **{k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()}}
    process = subprocess.Popen(
        ["node", str(PROBE)], cwd=BROWSER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(json.dumps(request), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # node and the Chromium it started: their own process group
        stdout, stderr = process.communicate()
        raise ProbeError(f"probe of {url} did not finish within {timeout:g} s; stderr: {stderr.strip()[-2000:]}")
    if process.returncode != 0:
        raise ProbeError(f"probe of {url} failed (exit {process.returncode}): {stderr.strip()[-2000:]}")
    try:
        return json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise ProbeError(f"probe of {url} printed no JSON report ({error}): stdout {stdout[-1000:]!r}, "
                         f"stderr {stderr.strip()[-2000:]}") from None


# --- what a Data Docs page looks like when its vendored files loaded -------------------------------------

# What only the vendored files give a page: bootstrap's CSS (the navbar's flex, its font stack), jQuery,
# bootstrap-table (and the tables it built), Font Awesome's solid font actually loaded (document.fonts.check
# alone is true even when no such font face exists), the logo image.
STYLED = """(async () => {
  await document.fonts.ready;
  let faLoaded = false;
  try {
    const faces = await document.fonts.load('900 1em "Font Awesome 6 Free"');
    faLoaded = faces.length > 0 && faces.every((face) => face.status === 'loaded')
      && document.fonts.check('900 1em "Font Awesome 6 Free"');
  } catch (error) { faLoaded = false; }
  const navbar = document.querySelector('.navbar');
  const logo = document.querySelector('.navbar-brand img');
  return {
    navbar_display: navbar ? getComputedStyle(navbar).display : null,
    body_font: getComputedStyle(document.body).fontFamily,
    jquery: typeof window.jQuery,
    bootstrap_table: typeof (window.jQuery && window.jQuery.fn.bootstrapTable),
    bootstrap_tables: document.querySelectorAll('.bootstrap-table').length,
    font_awesome: faLoaded,
    logo: !!(logo && logo.complete && logo.naturalWidth > 0),
    vega_embed: typeof window.vegaEmbed,
    resources: performance.getEntriesByType('resource').map((entry) => entry.name),
  };
})()"""
DARK = [{"name": "prefers-color-scheme", "value": "dark"}]


def assert_styled_and_offline(report: dict) -> dict:
    assert report["status"] in (200, 0), report  # 0: file://
    assert report["offsite_requests"] == [], report["offsite_requests"]
    assert report["failed_requests"] == [], report["failed_requests"]
    assert report["console_errors"] == [], report["console_errors"]
    result = report["result"]
    assert result["navbar_display"] == "flex", result
    assert result["body_font"].startswith("-apple-system"), result  # bootstrap 4's font stack
    assert result["jquery"] == "function" and result["bootstrap_table"] == "function", result
    assert result["bootstrap_tables"] > 0, result
    assert result["font_awesome"] is True, result
    assert result["logo"] is True, result
    assert result["vega_embed"] == "function", result
    return result
