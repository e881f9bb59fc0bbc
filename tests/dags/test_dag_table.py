"""The README's table of DAGs is the one the DAGs themselves give (medical_telegram/orchestration/dag_table.py):
written once, from their schedules and docstrings, never by hand."""

from medical_telegram.orchestration import dag_table


def test_the_readme_lists_every_dag_as_the_dags_describe_themselves():
    dags = dag_table.parsed_dags()
    generated = dag_table.table(dags)
    readme = dag_table.README.read_text()
    assert dag_table.with_table(readme, generated) == readme, (
        "README.md's DAG table is out of date: run `.venv/bin/python -m medical_telegram.orchestration.dag_table"
        " --write`")
    assert len(dags) == 9 and all(f"| {dag.dag_id} |" in readme for dag in dags)
