"""Great Expectations checks of the warehouse, one checkpoint per layer.

GX Core is called directly (no Airflow provider): a file data context under include/gx (GX_PROJECT_DIR
overrides the folder that holds gx/), one suite per table, a validation definition per table and one
checkpoint per layer whose action rebuilds the Data Docs. The suites are defined here, in code, and
written into the context when missing or changed (add_or_update), so the context and the code cannot drift
apart: the JSON files under include/gx are generated and git-ignored (include/gx/README.md). Row-level rules
are dbt's; the suites (quality/suites.py) hold volume, freshness, distributions and counts across layers.

Each expectation is `critical` (the default) or `warning`: a failed critical expectation fails the checkpoint
(and the Airflow task that ran it); a failed warning is reported in the result and the Data Docs only.

The warehouse DSN reaches GX (as a SQLAlchemy URL on psycopg 3) through the environment variable
GX_WAREHOUSE_DSN, which the context's datasource names as `${GX_WAREHOUSE_DSN}`: the password is never
written to a file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from medical_telegram.paths import PROJECT_DIR
from medical_telegram.quality.suites import CHECKPOINTS, suites

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
DSN_VARIABLE = "GX_WAREHOUSE_DSN"


class QualityError(RuntimeError):
    """A critical expectation failed."""


def context_root() -> Path:
    """The folder that holds gx/ (GX's `project_root_dir`)."""
    return Path(os.environ.get("GX_PROJECT_DIR") or PROJECT_DIR / "include").resolve()


def data_docs_dir(root: Path | None = None) -> Path:
    return (root or context_root()) / "gx" / "uncommitted" / "data_docs" / "local_site"


@dataclasses.dataclass
class CheckResult:
    checkpoint: str
    success: bool
    evaluated: int = 0
    successful: int = 0
    critical_failures: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    skipped_tables: list[str] = dataclasses.field(default_factory=list)

    @property
    def score(self) -> float:
        """Share of expectations met, 0..1 (1.0 when nothing was evaluated)."""
        return round(self.successful / self.evaluated, 4) if self.evaluated else 1.0

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "score": self.score}


def sqlalchemy_url(dsn: str) -> str:
    """A libpq DSN (URI or key=value) as the SQLAlchemy URL GX needs, on the psycopg 3 driver."""
    from urllib.parse import quote, urlencode

    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(dsn)
    user = quote(str(params.pop("user", "") or ""), safe="")
    password = params.pop("password", None)
    auth = f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    host = params.pop("host", None) or "127.0.0.1"
    port = f":{params.pop('port')}" if params.get("port") else ""
    params.pop("port", None)
    database = params.pop("dbname", None) or "postgres"
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql+psycopg://{auth}{host}{port}/{quote(str(database), safe='')}{query}"


def get_context(root: Path | None = None):
    import great_expectations as gx

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    root = root or context_root()
    return gx.get_context(mode="file", project_root_dir=str(root))


def _existing_tables(dsn: str) -> set[tuple[str, str]]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('raw', 'staging', 'marts')"
        ).fetchall()
    return {(schema, table) for schema, table in rows}


def _signature(expectations) -> list[str]:
    """What a suite checks, without the ids GX gives each expectation (they change on every save); numbers
    compared as floats (GX stores 7 as 7.0)."""
    import json

    def plain(value):
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return str(value)

    configs = (x.configuration if hasattr(x, "configuration") else x for x in expectations)
    return sorted(json.dumps([e.type, plain(dict(e.kwargs)), str(getattr(e, "severity", ""))], sort_keys=True)
                  for e in configs)


def _get(store, name: str):
    try:
        return store.get(name)
    except Exception:  # GX raises a different error type per store for "not found"
        return None


def sync(context, checkpoint: str, tables: set[tuple[str, str]] | None = None):
    """Make the context hold the datasource, suites, validation definitions and checkpoint; return the
    checkpoint (or, when some tables are not built yet, the validation definitions of those that are) and the
    tables left out.

    Only what is missing or changed is written, so a check run writes the context once, not on every run
    (GX gives every saved object new ids).
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    dsn_reference = "${" + DSN_VARIABLE + "}"
    source = _get(context.data_sources, DATASOURCE)
    if source is None or str(getattr(source, "connection_string", "")) != dsn_reference:
        source = context.data_sources.add_or_update_postgres(name=DATASOURCE, connection_string=dsn_reference)
    all_suites = suites()
    definitions, skipped = [], []
    for suite_name in CHECKPOINTS[checkpoint]:
        schema, table, expectations = all_suites[suite_name]
        if tables is not None and (schema, table) not in tables:
            skipped.append(f"{schema}.{table}")
            continue
        asset_name = f"{schema}.{table}"
        try:
            asset = source.get_asset(asset_name)
        except LookupError:
            asset = source.add_table_asset(name=asset_name, table_name=table, schema_name=schema)
        try:
            batch = asset.get_batch_definition("whole_table")
        except KeyError:
            batch = asset.add_batch_definition_whole_table("whole_table")
        suite = _get(context.suites, suite_name)
        changed = suite is None or _signature(suite.expectations) != _signature(expectations)
        if changed:
            suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
        definition = _get(context.validation_definitions, suite_name)
        if definition is None or changed:
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
            )
        definitions.append(definition)
    if not definitions:
        return [], skipped
    if skipped:
        # Some tables are not built yet: the caller runs the definitions that exist one by one, so the
        # layer's checkpoint, written once the whole layer exists, keeps every suite.
        return definitions, skipped
    actions = [UpdateDataDocsAction(name="update_data_docs")]
    point = _get(context.checkpoints, checkpoint)
    if point is None or sorted(d.name for d in point.validation_definitions) != sorted(d.name for d in definitions):
        point = context.checkpoints.add_or_update(gx.Checkpoint(
            name=checkpoint, validation_definitions=definitions, actions=actions,
        ))
    return point, skipped


def run_checkpoint(checkpoint: str, dsn: str, root: Path | None = None, *, raise_on_critical: bool = True
                   ) -> CheckResult:
    """Run one layer's checkpoint against the warehouse at `dsn`; Data Docs are rebuilt by its action.

    Tables that do not exist yet (dbt has not built them) are left out and listed in skipped_tables.
    Raises QualityError when a critical expectation failed (unless raise_on_critical is False).
    """
    os.environ[DSN_VARIABLE] = sqlalchemy_url(dsn)
    context = get_context(root)
    point, skipped = sync(context, checkpoint, _existing_tables(dsn))
    result = CheckResult(checkpoint, success=True, skipped_tables=skipped)
    if not point:
        log.warning("checkpoint %s: no table to check yet (%s)", checkpoint, ", ".join(skipped))
        return result
    if isinstance(point, list):  # a partly built layer: its validation definitions, run one by one
        validations = [definition.run() for definition in point]
        context.build_data_docs()
    else:
        validations = point.run().run_results.values()
    from medical_telegram.quality import data_docs_offline  # the pages GX just wrote: local copies, not CDNs

    data_docs_offline.localize(data_docs_dir(root))
    for validation in validations:
        suite = validation.suite_name
        for item in validation.results:
            config = item.expectation_config
            result.evaluated += 1
            if item.success:
                result.successful += 1
                continue
            column = config.kwargs.get("column") or config.kwargs.get("column_list") or ""
            label = f"{suite}: {config.type}({column or config.description or ''})"
            severity = str(getattr(config, "severity", "critical")).rsplit(".", 1)[-1].lower()
            (result.warnings if severity != "critical" else result.critical_failures).append(label)
    result.success = not result.critical_failures
    log.info("checkpoint %s: %d/%d expectations met (score %.3f)%s%s", checkpoint, result.successful,
             result.evaluated, result.score,
             f"; warnings: {'; '.join(result.warnings)}" if result.warnings else "",
             f"; skipped (not built yet): {', '.join(skipped)}" if skipped else "")
    if result.critical_failures and raise_on_critical:
        raise QualityError(f"checkpoint {checkpoint}: critical expectation(s) failed: "
                           + "; ".join(result.critical_failures))
    return result


def record(conn, result: CheckResult, run_id: str | None = None) -> None:
    """Keep a checkpoint's outcome in monitoring.quality_results (the quality score over time)."""
    conn.execute(
        "insert into monitoring.quality_results (checkpoint, evaluated, successful, score, success,"
        " critical_failures, warnings, dag_run_id) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (result.checkpoint, result.evaluated, result.successful, result.score, result.success,
         len(result.critical_failures), len(result.warnings), run_id))
    conn.commit()


def build_data_docs(root: Path | None = None) -> Path:
    """Rebuild the Data Docs from the stored results; returns the site's index.html."""
    context = get_context(root)
    context.build_data_docs()
    from medical_telegram.quality import data_docs_offline

    data_docs_offline.localize(data_docs_dir(root))
    return data_docs_dir(root) / "index.html"


def sync_all(dsn: str, root: Path | None = None) -> list[str]:
    """Write every suite, validation definition and checkpoint into the context (GX checks that the
    datasource answers, so a warehouse is needed; it is not read)."""
    os.environ[DSN_VARIABLE] = sqlalchemy_url(dsn)
    context = get_context(root)
    context.variables.progress_bars = {"globally": False}
    context.variables.save()
    for checkpoint in CHECKPOINTS:
        sync(context, checkpoint)
    return sorted(CHECKPOINTS)


if __name__ == "__main__":  # python -m medical_telegram.quality: write the whole context now
    from medical_telegram.warehouse import warehouse_dsn

    print(", ".join(sync_all(warehouse_dsn())))
