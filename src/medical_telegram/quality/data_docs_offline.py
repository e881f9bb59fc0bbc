"""Great Expectations Data Docs that load nothing from the network.

GX renders its pages with <script>/<link>/<img> tags that point at public CDNs (bootstrap, bootstrap-table,
jQuery, Font Awesome, vega ...) and at an S3 bucket for the logo: offline, or in an air-gapped deployment,
the pages show as unstyled text, and in the Airflow UI (which serves the site from its own origin) they would
run third-party scripts. `localize(site_dir)` puts pinned local copies of those files (include/gx/vendor, made
by scripts/vendor_data_docs.sh; see its README) into <site_dir>/static/vendor/ and rewrites every page to load
them by a relative path, so the site works over file:// and under any URL prefix.

Run it after every Data Docs build (medical_telegram.quality does). It is idempotent: a second run copies and
rewrites nothing. It raises OfflineDocsError when a page still loads a script, stylesheet, image or font from
an http(s) URL it has no local copy for (GX changed its templates: refresh the vendor folder and urls.json).
Links (<a href>, e.g. to greatexpectations.io) are navigation, not loads, and are left as they are.
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from medical_telegram.paths import PROJECT_DIR

log = logging.getLogger(__name__)

URL_MAP_FILE = "urls.json"  # in the vendor folder: CDN/S3 URL -> path under the folder
# The vendor folder's own definitions: not copied into the site.
NOT_COPIED = {"package.json", "package-lock.json", ".npmrc", "README.md", URL_MAP_FILE}
SITE_VENDOR = Path("static") / "vendor"

_ABSOLUTE_URL = re.compile(r"""https?://[^\s"'()<>`\\]+""")
_LOADING_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.IGNORECASE)
_CORS_ATTRIBUTE = re.compile(
    r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]*)\1\s*\)|@import\s+(["'])([^"']*)\3""", re.IGNORECASE)
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
# A relative reference into the site's static/ folder (GX's favicon link on validation pages is one "../"
# short: it points at validations/static/images/favicon.ico).
_STATIC_REFERENCE = re.compile(r"""(\b(?:src|href)\s*=\s*["'])((?:\.{1,2}/)*)(static/[^"'?#\s]+)""",
                               re.IGNORECASE)


class OfflineDocsError(RuntimeError):
    """A Data Docs page would still load something from the network, or a local copy is missing."""


def default_vendor_dir() -> Path:
    """include/gx/vendor of the project checkout (MEDTEL_PROJECT_DIR where the package is installed
    non-editable, as in the Airflow image)."""
    return PROJECT_DIR / "include" / "gx" / "vendor"


def url_map(vendor_dir: Path | None = None) -> dict[str, str]:
    """CDN/S3 URL (without a query) → the file's path under the vendor folder."""
    vendor_dir = Path(vendor_dir or default_vendor_dir())
    path = vendor_dir / URL_MAP_FILE
    if not path.is_file():
        raise OfflineDocsError(f"no {URL_MAP_FILE} in the Data Docs vendor folder {vendor_dir} "
                               "(scripts/vendor_data_docs.sh makes it)")
    return json.loads(path.read_text(encoding="utf-8"))


def _vendor_files(vendor_dir: Path) -> list[Path]:
    return sorted(p.relative_to(vendor_dir) for p in vendor_dir.rglob("*")
                  if p.is_file() and p.name not in NOT_COPIED and "node_modules" not in p.parts)


def _sync_vendor(vendor_dir: Path, target: Path) -> tuple[int, int]:
    """Make `target` hold exactly the vendor files; only what differs is copied. → (copied, removed)."""
    wanted = _vendor_files(vendor_dir)
    copied = 0
    for rel in wanted:
        src, dst = vendor_dir / rel, target / rel
        # shallow: equal size and mtime (copy2 keeps the mtime) count as equal without reading the bytes
        if dst.is_file() and filecmp.cmp(src, dst, shallow=True):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    removed = 0
    keep = set(wanted)
    for path in sorted(target.rglob("*"), reverse=True) if target.is_dir() else []:
        rel = path.relative_to(target)
        if path.is_file() and rel not in keep:
            path.unlink()
            removed += 1
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return copied, removed


def _rewrite(text: str, urls: dict[str, str], prefix: str) -> tuple[str, int]:
    """Every absolute URL the map knows (any query dropped: GX appends a tracking one to its logo) becomes
    prefix + its local path; the tags that load them lose integrity=/crossorigin=. → (text, URLs replaced)."""
    replaced = 0

    def local(match: re.Match) -> str:
        nonlocal replaced
        url = match.group(0)
        base = re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/")
        if base not in urls:
            return url
        replaced += 1
        return prefix + urls[base]

    text = _ABSOLUTE_URL.sub(local, text)
    if replaced:
        def strip(match: re.Match) -> str:
            tag = match.group(0)
            return _CORS_ATTRIBUTE.sub("", tag) if prefix in tag else tag

        text = _LOADING_TAG.sub(strip, text)
    return text, replaced


class _Loads(HTMLParser):
    """The URLs a page loads by itself: scripts, stylesheets and other <link>s, images, frames, media, and
    url()/@import in <style> and style=. Not <a href> (navigation)."""

    ATTRIBUTES = {
        "script": ("src",), "link": ("href",), "img": ("src", "srcset"), "source": ("src", "srcset"),
        "iframe": ("src",), "frame": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"),
        "audio": ("src",), "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"),
        "use": ("href", "xlink:href"),
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self.loads += _css_urls(value)
            elif name in self.ATTRIBUTES.get(tag, ()):
                self.loads += [part.split()[0] for part in value.split(",") if part.strip()] \
                    if name == "srcset" else [value]
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.loads += _css_urls(data)


def _css_urls(css: str) -> list[str]:
    return [m.group(2) if m.group(2) is not None else m.group(4) for m in _CSS_URL.finditer(css)]


def page_loads(html: str) -> list[str]:
    """Every URL the page loads (see _Loads)."""
    parser = _Loads()
    parser.feed(html)
    parser.close()
    return parser.loads


def _rebase_static(text: str, page: Path, site_dir: Path) -> tuple[str, int]:
    """Relative references to static/ files that lead nowhere from this page, though the file is in the
    site's static/ folder, get the right number of "../". → (text, references fixed)."""
    correct = Path(os.path.relpath(site_dir, page.parent)).as_posix() + "/"
    correct = "" if correct == "./" else correct
    fixed = 0

    def rebase(match: re.Match) -> str:
        nonlocal fixed
        attribute, prefix, rest = match.groups()
        if prefix == correct or (page.parent / prefix / rest).is_file() or not (site_dir / rest).is_file():
            return match.group(0)
        fixed += 1
        return attribute + correct + rest

    return _STATIC_REFERENCE.sub(rebase, text), fixed


def _check(page: Path, html: str, site_dir: Path) -> list[str]:
    """What is wrong with a rewritten page: remote loads, and local vendor paths that lead nowhere."""
    problems = []
    for url in page_loads(html):
        if _REMOTE.match(url):
            problems.append(f"{page.relative_to(site_dir)}: loads {url}")
        elif "static/vendor/" in url and not (page.parent / re.split(r"[?#]", url)[0]).is_file():
            problems.append(f"{page.relative_to(site_dir)}: {url} does not exist")
    return problems


def _write(path: Path, text: str) -> None:
    """Replace the file in one step: a web server never serves half a page."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def localize(site_dir: Path, vendor_dir: Path | None = None) -> dict:
    """Make the Data Docs site at `site_dir` load only local files (see the module's docstring).

    Returns {"pages", "files_rewritten", "urls_replaced", "local_paths_fixed", "vendor_files_copied",
    "vendor_files_removed"}.
    Raises OfflineDocsError when a page still loads from the network after rewriting, or a local copy is
    missing.
    """
    site_dir = Path(site_dir)
    vendor_dir = Path(vendor_dir or default_vendor_dir())
    counts = {"pages": 0, "files_rewritten": 0, "urls_replaced": 0, "local_paths_fixed": 0,
              "vendor_files_copied": 0, "vendor_files_removed": 0}
    if not site_dir.is_dir():
        log.warning("data docs: no site at %s, nothing to localize", site_dir)
        return counts
    urls = {url.rstrip("/"): path for url, path in url_map(vendor_dir).items()}
    missing = sorted(path for path in set(urls.values()) if not (vendor_dir / path).is_file())
    if missing:
        raise OfflineDocsError(f"the Data Docs vendor folder {vendor_dir} lacks {', '.join(missing)} "
                               "(run scripts/vendor_data_docs.sh)")

    target = site_dir / SITE_VENDOR
    counts["vendor_files_copied"], counts["vendor_files_removed"] = _sync_vendor(vendor_dir, target)

    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        if target in page.parents:
            continue
        counts["pages"] += 1
        html = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(target, page.parent)).as_posix() + "/"
        new, replaced = _rewrite(html, urls, prefix)
        new, fixed = _rebase_static(new, page, site_dir)
        if new != html:
            _write(page, new)
            counts["files_rewritten"] += 1
            counts["urls_replaced"] += replaced
            counts["local_paths_fixed"] += fixed
        problems += _check(page, new, site_dir)
    for css in sorted(target.rglob("*.css")):
        problems += [f"{css.relative_to(site_dir)}: loads {url}"
                     for url in _css_urls(css.read_text(encoding="utf-8", errors="replace")) if _REMOTE.match(url)]

    log.info("data docs %s: %d page(s), %d rewritten, %d URL(s) made local, %d local path(s) fixed; vendor "
             "files: %d copied, %d removed", site_dir, counts["pages"], counts["files_rewritten"],
             counts["urls_replaced"], counts["local_paths_fixed"], counts["vendor_files_copied"],
             counts["vendor_files_removed"])
    if problems:
        shown = "; ".join(problems[:20]) + (f"; ... ({len(problems)} in all)" if len(problems) > 20 else "")
        raise OfflineDocsError(f"Data Docs at {site_dir} would still load from the network or miss a local "
                               f"file (add the URL to {vendor_dir / URL_MAP_FILE}, then run "
                               f"scripts/vendor_data_docs.sh): {shown}")
    return counts
