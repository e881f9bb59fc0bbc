"""The package's layers import downwards only: lake at the bottom (the task images install nothing else), the
local service (devstack) at the top, imported by the CLI alone. Keeps the layout true as the code changes."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "medical_telegram"

# What each part may import of ours (besides itself).
ALLOWED = {
    "lake": set(),
    "paths": set(),
    "connections": set(),
    "warehouse": {"lake", "connections", "paths"},
    "transform": {"lake", "warehouse", "paths"},
    "quality": {"warehouse", "connections", "paths"},
    "monitoring": {"lake", "warehouse", "connections", "paths"},
    "orchestration": {"lake", "warehouse", "transform", "quality", "monitoring", "connections", "paths"},
    "devstack": {"lake", "warehouse", "transform", "quality", "monitoring", "orchestration", "connections", "paths"},
    "cli": {"lake", "warehouse", "transform", "quality", "monitoring", "devstack", "connections", "paths"},
}


def part(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("medical_telegram"):
            names = node.module.split(".")[1:] or [alias.name for alias in node.names]
            found.update(names[:1] if node.module != "medical_telegram" else names)
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names
                         if alias.name.startswith("medical_telegram."))
    return found


def test_every_part_imports_only_the_layers_below_it():
    modules = [p for p in PACKAGE.rglob("*.py") if part(p) not in ("__init__", "__main__")]
    assert {part(p) for p in modules} == set(ALLOWED), "a new part of the package: give it its place in ALLOWED"
    wrong = [f"{p.relative_to(PACKAGE)} imports {sorted(imported_parts(p) - ALLOWED[part(p)] - {part(p)})}"
             for p in modules if imported_parts(p) - ALLOWED[part(p)] - {part(p)}]
    assert not wrong, "\n".join(wrong)
