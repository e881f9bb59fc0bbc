"""A test's own copy of the Great Expectations context, so no test writes into the checkout's include/gx."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What GX writes on a run (results, Data Docs, the suites' JSON): a copy starts without it, as a clone does.
GENERATED = ("uncommitted", "expectations", "validation_definitions", "checkpoints")


def gx_context_copy(root: Path, *, vendor: bool = True) -> Path:
    """Copy include/gx to root/gx as a fresh clone holds it; returns root (what GX_PROJECT_DIR names)."""
    skip = GENERATED if vendor else (*GENERATED, "vendor")
    shutil.copytree(REPO / "include" / "gx", root / "gx", ignore=shutil.ignore_patterns(*skip))
    return root
