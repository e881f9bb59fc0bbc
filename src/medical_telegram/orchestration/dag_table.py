"""The README's table of DAGs, written from the DAGs themselves: each one's schedule (its cron and the Assets it
waits for) and the first sentence of its docstring. `tests/dags/test_dag_table.py` fails when the README's
table is not what this writes.

    .venv/bin/python -m medical_telegram.orchestration.dag_table           print the table
    .venv/bin/python -m medical_telegram.orchestration.dag_table --write   put it into README.md
"""

from __future__ import annotations

import re
import sys

from medical_telegram.paths import PROJECT_DIR

README = PROJECT_DIR / "README.md"
BEGIN = "<!-- dag-table: written by `python -m medical_telegram.orchestration.dag_table --write` -->"
END = "<!-- /dag-table -->"


def scheduled_assets(dag) -> list:
    """The Assets a DAG's schedule waits for (the leaves of its asset condition)."""
    pending, leaves = [getattr(dag.timetable, "asset_condition", None)], []
    while pending:
        condition = pending.pop()
        if condition is None:
            continue
        if hasattr(condition, "objects"):  # AssetAll / AssetAny
            pending.extend(condition.objects)
        else:
            leaves.append(condition)
    return leaves


def schedule(dag) -> str:
    timetable = dag.timetable
    cron = getattr(timetable, "expression", None) or getattr(getattr(timetable, "timetable", None), "expression",
                                                              None)
    assets = [asset.name for asset in scheduled_assets(dag)]
    parts = [f"Asset `{name}`" for name in sorted(assets)] + ([f"`{cron}`"] if cron else [])
    return " or ".join(parts) or "manual only"


def first_sentence(doc: str | None) -> str:
    """The first sentence of the docstring's first paragraph under its heading, on one line."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", (doc or "").strip())]
    body = next((p for p in paragraphs if p and not p.startswith("#")), "")
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`])", body, maxsplit=1)[0]


def table(dags) -> str:
    rows = ["| DAG | runs on (UTC) | does |", "|---|---|---|"]
    rows += [f"| {dag.dag_id} | {schedule(dag)} | {first_sentence(dag.doc_md)} |"
             for dag in sorted(dags, key=lambda d: d.dag_id)]
    return "\n".join(rows)


def with_table(readme: str, generated: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return f"{readme[:start]}\n{generated}\n{readme[end:]}"


def parsed_dags() -> list:
    from airflow.dag_processing.dagbag import DagBag

    return list(DagBag(dag_folder=str(PROJECT_DIR / "dags")).dags.values())


def main(argv: list[str] | None = None) -> int:
    generated = table(parsed_dags())
    if "--write" in (argv if argv is not None else sys.argv[1:]):
        README.write_text(with_table(README.read_text(), generated))
    else:
        print(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
