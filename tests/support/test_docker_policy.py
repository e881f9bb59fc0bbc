"""The docker-skip policy of tests/support/docker_policy.py, run on a throwaway test file in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent

SKIPPING = '''
import pytest

@pytest.mark.docker
def test_needs_an_engine():
    pytest.skip("no Docker engine answers")

def test_plain():
    pytest.skip("not a docker test")
'''


def run_pytest(tmp_path: Path, require: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_skipping.py").write_text(SKIPPING, encoding="utf-8")
    env = {**os.environ, "MEDTEL_REQUIRE_DOCKER": require, "PYTHONPATH": str(SUPPORT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "docker_policy", "-p", "no:cacheprovider",
         "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_skipping.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_where_docker_is_required_a_skipped_docker_test_fails_with_its_reason(tmp_path):
    result = run_pytest(tmp_path, "1")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "1 skipped" in result.stdout, result.stdout
    assert "but this docker test skipped: no Docker engine answers" in result.stdout


def test_elsewhere_the_skip_stands_and_prints_its_reason(tmp_path):
    result = run_pytest(tmp_path, "0")
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout, result.stdout
    assert "no Docker engine answers" in result.stdout


SKIPPED_AT_COLLECTION = """
import pytest

pytest.importorskip("a_module_nobody_installed", reason="a_module_nobody_installed is missing")


@pytest.mark.docker
def test_never_collected():
    pass
"""


def test_a_module_skipped_while_collecting_fails_where_docker_is_required(tmp_path):
    (tmp_path / "test_collection.py").write_text(SKIPPED_AT_COLLECTION, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(SUPPORT)}
    argv = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "docker_policy", "-p", "no:cacheprovider",
            "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_collection.py")]
    required = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                              env={**env, "MEDTEL_REQUIRE_DOCKER": "1"})
    assert required.returncode != 0, required.stdout
    assert "skipped while collecting: a_module_nobody_installed is missing" in required.stdout
    elsewhere = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                               env={**env, "MEDTEL_REQUIRE_DOCKER": "0"})
    # 5: pytest ran no test, which is what a skipped module means; not a failure
    assert elsewhere.returncode == 5 and "1 skipped" in elsewhere.stdout, elsewhere.stdout
