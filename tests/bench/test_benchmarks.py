"""Each benchmark's small mode, run as a user runs the benchmark: it completes and writes every figure.

No timing is asserted (benchmarks are not tests); what is asserted is that the benchmark still works against
today's code and schema, so its figures can be measured again at full size (bench/README.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from numbers import Real
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_bench(name: str, tmp_path: Path, admin_dsn: str, *args: str, timeout: float = 900) -> dict:
    results = tmp_path / f"{name}.json"
    env = {**os.environ, "TEST_WAREHOUSE_ADMIN_DSN": admin_dsn}
    done = subprocess.run([sys.executable, str(REPO / "bench" / f"{name}.py"), "--small", "--results", str(results),
                           *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report = json.loads(results.read_text())
    for key in ("load_average_before", "load_average_after"):
        assert len(report[key]) == 3 and all(isinstance(v, Real) for v in report[key]), report[key]
    assert "load average" in done.stdout, "the load average is printed beside the figures"
    return report


def numbers(mapping: dict, *keys: str) -> None:
    for key in keys:
        assert isinstance(mapping.get(key), Real) and mapping[key] >= 0, (key, mapping.get(key))


def test_loader_benchmark(tmp_path, admin_dsn):
    report = run_bench("bench_loader", tmp_path, admin_dsn, "--admin-dsn", admin_dsn)
    assert report["records"] == 3_000
    assert [shape["shape"] for shape in report["shapes"]] == ["small", "large"]
    for shape in report["shapes"]:
        numbers(shape, "loader_rate", "copy_rate", "insert_rate", "loader_to_copy", "loader_to_insert", "halves",
                "peak_mib", "cpu_us")
        assert shape["files"] > 0


def test_scraper_benchmark(tmp_path, admin_dsn):
    report = run_bench("bench_scraper", tmp_path, admin_dsn)
    assert report["messages"] == 2_000
    for figure in ("seconds", "messages_per_second", "to_baseline"):
        assert set(report[figure]) == {"scrape", "refresh", "baseline"}
        numbers(report[figure], "scrape", "refresh", "baseline")


def test_dag_parse_benchmark(tmp_path, admin_dsn):
    report = run_bench("bench_dag_parse", tmp_path, admin_dsn)
    dag_files = sorted(path.name for path in (REPO / "dags").glob("*.py"))
    assert sorted(report["files"]) == dag_files
    assert report["folder"]["dags"] == len(dag_files), "one DAG a file, each parsed"
    numbers(report, "baseline_wall_s", "baseline_sdk_import_s")
    numbers(report["folder"], "wall_s", "dagbag_s", "to_baseline")


def test_detector_benchmark(tmp_path, admin_dsn, yolo_python, offline_model):
    report = run_bench("bench_yolo", tmp_path, admin_dsn)
    assert report["photos"] == 4
    assert {"ours b1", "yolo b1", "ours b2", "yolo b2"} <= set(report["images_per_second"])
    numbers(report["images_per_second"], *report["images_per_second"])
    numbers(report["ratios"], "batch 1", "batch 2")


@pytest.mark.slow
def test_dbt_benchmark(tmp_path, admin_dsn):
    report = run_bench("bench_dbt", tmp_path, admin_dsn)
    assert report["messages"] == 3_000 and report["rounds"] == 1
    numbers(report, "full_build_s", "incremental_run_median_s", "incremental_build_s",
            "incremental_run_to_full_build", "incremental_build_to_full_build")
    assert report["rows"]["fct_messages"] == 3_000 + 2 * 100, "the full set and both rounds of new posts"
    assert report["rows"]["fct_product_mentions"] > 0
    assert {"seed", "model", "test"} <= set(report["full_build_by_kind_s"]), "the full build's time by kind of node"
    assert len(report["full_build_slowest_s"]) == 12, "the twelve slowest nodes, named"


@pytest.mark.slow
def test_api_benchmark_in_its_default_mode(tmp_path, admin_dsn):
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (apt-get install wrk; .ci/run installs it): the API benchmark's load tool")
    report = run_bench("bench_api", tmp_path, admin_dsn)
    assert report["messages"] == 3_000
    assert [row["query"] for row in report["sql"]] == ["top-products", "search paracetamol", "visual-content"]
    for row in report["sql"]:
        numbers(row, "naive_ms", "served_ms", "ratio")
    assert len(report["http"]) == 9 and "GET /api/health" in report["http"]
    for scenario, result in report["http"].items():
        numbers(result, "p50_ms", "p99_ms", "requests_per_s", "p99_to_health", "requests_per_s_to_health")
        assert result["requests"] > 0 and result["errors"] == 0, (scenario, result)


@pytest.mark.slow
def test_pipeline_benchmark(tmp_path, admin_dsn):
    report = run_bench("bench_pipeline", tmp_path, admin_dsn, timeout=1200)
    assert set(report["dags"]) == {"data_transformation", "full_pipeline"}
    for dag in report["dags"].values():
        numbers(dag["watcher"], "median_s", "min_s", "max_s")
        assert len(dag["watcher"]["runs"]) == 1
