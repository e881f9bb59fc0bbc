"""Where containers must run, a docker test may not skip.

MEDTEL_REQUIRE_DOCKER=1 (set by .ci/run on CI) turns the skip of a docker-marked test (no engine, an image not
built) into a failure that keeps the skip's reason: CI cannot pass without running a container. Elsewhere the
skip stands and `-ra` prints its reason. A plain pytest plugin, loaded by tests/conftest.py.

A skip at collection time (a module's importorskip, pytest.skip(allow_module_level=True)) skips every test of
the module, docker-marked or not, before any marker can be read: under the same setting it fails too.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and os.environ.get("MEDTEL_REQUIRE_DOCKER") == "1"
            and item.get_closest_marker("docker") is not None and not hasattr(report, "wasxfail")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"MEDTEL_REQUIRE_DOCKER=1 (CI) but this docker test skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MEDTEL_REQUIRE_DOCKER") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"MEDTEL_REQUIRE_DOCKER=1 (CI) but {collector.nodeid or 'a module'} skipped while"
                           f" collecting: {reason.removeprefix('Skipped: ')}")
