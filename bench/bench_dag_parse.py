"""How long parsing the DAG bundle takes: the whole dags/ folder, and each file alone.

Every measurement runs in a fresh Python process (as the dag-processor parses each file in a new process):
- baseline: `import airflow.sdk` alone, the price any DAG file pays before its own code;
- folder: DagBag over dags/ (process start to end, and the DagBag call alone);
- per file: DagBag over one file, after airflow.sdk is imported, so the figure is that file's own cost
  (its imports of the shared package, Cosmos rendering the dbt manifest, ...).
Prints the median of RUNS runs (default 5) and the ratio against the baseline. Not a test: no threshold.

    .venv/bin/python bench/bench_dag_parse.py [RUNS] [--small] [--results PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import figures  # bench/figures.py: run as a script, this folder is on sys.path

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk  # noqa: F401
t1 = time.perf_counter()
target = sys.argv[1]
if target != "-":
    from airflow.dag_processing.dagbag import DagBag
    t2 = time.perf_counter()
    bag = DagBag(target, safe_mode=False)
    t3 = time.perf_counter()
    assert not bag.import_errors, bag.import_errors
    print(json.dumps({"sdk": t1 - t0, "dagbag": t3 - t2, "dags": len(bag.dags)}))
else:
    print(json.dumps({"sdk": t1 - t0}))
"""


def probe(target: str, env: dict[str, str]) -> dict:
    import time

    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _PROBE, target], capture_output=True, text=True, env=env,
                            cwd=REPO)
    wall = time.perf_counter() - began
    if result.returncode:
        raise SystemExit(f"parse of {target} failed: {result.stderr.strip()[-500:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    return figures


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=int, nargs="?", default=5, help="fresh processes per figure (default 5)")
    figures.add_arguments(parser, "bench_dag_parse")
    args = parser.parse_args()
    runs = 1 if args.small else args.runs
    load_before = figures.load_average()
    env = {**os.environ, "AIRFLOW_HOME": tempfile.mkdtemp(prefix="bench_airflow_"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"):
        env.pop(name, None)

    baseline = [probe("-", env) for _ in range(runs)]
    base_wall = median(baseline, "wall")
    print(f"dag parse benchmark, median of {runs} runs, each in a fresh process")
    label = 'baseline: python -c "import airflow.sdk"'
    print(f"{label:52s} wall {base_wall:6.2f} s"
          f"  (the import itself {median(baseline, 'sdk'):.2f} s)")

    folder = [probe(str(DAGS), env) for _ in range(runs)]
    print(f"{'whole dags/ folder (' + str(folder[0]['dags']) + ' DAGs)':52s} wall {median(folder, 'wall'):6.2f} s"
          f"  DagBag {median(folder, 'dagbag'):.2f} s  ratio to baseline {median(folder, 'wall') / base_wall:.2f}")
    report = {"runs": runs, "baseline_wall_s": base_wall, "baseline_sdk_import_s": median(baseline, "sdk"),
              "folder": {"dags": folder[0]["dags"], "wall_s": median(folder, "wall"),
                         "dagbag_s": median(folder, "dagbag"), "to_baseline": median(folder, "wall") / base_wall},
              "files": {}}

    print("per file (DagBag of the file alone, after airflow.sdk is imported):")
    for path in sorted(DAGS.glob("*.py")):
        measured = [probe(str(path), env) for _ in range(runs)]
        print(f"  {path.name:50s} DagBag {median(measured, 'dagbag'):5.2f} s"
              f"  wall {median(measured, 'wall'):5.2f} s  ratio {median(measured, 'wall') / base_wall:.2f}")
        report["files"][path.name] = {"dagbag_s": median(measured, "dagbag"), "wall_s": median(measured, "wall"),
                                      "to_baseline": median(measured, "wall") / base_wall}
    figures.write(args.results, report, load_before=load_before)

if __name__ == "__main__":
    main()
