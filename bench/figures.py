"""What every benchmark shares: the --small and --results options, and the results file with the load average.

A benchmark's small mode runs in seconds on a few thousand posts; the test suite runs it (tests/bench) and
checks that it completes and writes every figure, never how fast it was. The figures of a small run mean
nothing: read the default mode's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--small", action="store_true",
                        help="a few thousand posts, one run: checks that the benchmark works, measures nothing")
    parser.add_argument("--results", type=Path, default=RESULTS / f"{name}.json",
                        help=f"where the figures go as JSON (default: bench/results/{name}.json)")


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def write(path: Path, figures: dict, *, load_before: list[float]) -> None:
    """The figures, with the machine and its load average before and after the run."""
    report = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
              "machine": platform.machine(), "load_average_before": load_before,
              "load_average_after": load_average(), **figures}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(f"load average (1, 5, 15 min): before {load_before}, after {report['load_average_after']};"
          f" figures in {path}", flush=True)
