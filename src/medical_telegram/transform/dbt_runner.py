"""Running dbt on the medical_warehouse project from Python: tests, setup, the CLI and the benchmark.

dbt lives in its own virtual environment (.venvs/dbt; DBT_EXECUTABLE overrides the path), so it is run as a
subprocess. The profile (include/dbt/medical_warehouse/profiles/profiles.yml) reads the WAREHOUSE_* environment,
which `dbt_env(dsn)` derives from a DSN: no password is ever written to a file or a log line.
Airflow does not use this module: Cosmos runs dbt itself (medical_telegram.orchestration.dbt_tasks).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg

from medical_telegram.paths import PROJECT_DIR as REPO_DIR
from medical_telegram.warehouse import redact

log = logging.getLogger(__name__)

PROJECT_DIR = REPO_DIR / "include" / "dbt" / "medical_warehouse"
PROFILES_DIR = PROJECT_DIR / "profiles"
MANIFEST_PATH = PROJECT_DIR / "target" / "manifest.json"
DEFAULT_EXECUTABLE = REPO_DIR / ".venvs" / "dbt" / "bin" / "dbt"

# Values for `dbt parse`, which renders the profile but never connects.
_PARSE_ENV = {"WAREHOUSE_HOST": "127.0.0.1", "WAREHOUSE_PORT": "5432", "WAREHOUSE_USER": "postgres",
              "WAREHOUSE_DBNAME": "postgres"}


class DbtError(RuntimeError):
    """dbt failed; the message names the command and the last lines dbt printed."""


def dbt_executable() -> Path:
    return Path(os.environ.get("DBT_EXECUTABLE") or DEFAULT_EXECUTABLE)


def dbt_env(dsn: str) -> dict[str, str]:
    """The WAREHOUSE_* variables the profile reads, from a libpq DSN (URI or key=value)."""
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    host = params.get("host") or "127.0.0.1"
    if host.startswith("/"):
        # Cosmos builds Asset URIs from the host: a socket directory would fail it (docs/architecture.md, pitfalls).
        raise DbtError(f"the warehouse host must be a TCP host, not a socket directory: {redact(dsn)}")
    return {
        "WAREHOUSE_HOST": host,
        "WAREHOUSE_PORT": str(params.get("port") or 5432),
        "WAREHOUSE_USER": params.get("user") or "postgres",
        "WAREHOUSE_PASSWORD": params.get("password") or "",
        "WAREHOUSE_DBNAME": params.get("dbname") or "postgres",
    }


def run_dbt(
    args: Sequence[str],
    dsn: str | None = None,
    *,
    project_dir: Path = PROJECT_DIR,
    env: Mapping[str, str] | None = None,
    target_path: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on the project, streaming its output to the log line by line.

    dsn: the warehouse; None keeps the WAREHOUSE_* variables of the environment. target_path: where dbt writes
    its artifacts (default the project's target/, whose manifest.json Cosmos reads). Raises DbtError when dbt
    exits non-zero (unless check=False) with the command and dbt's last lines, which name the failing node.
    """
    executable = dbt_executable()
    if not executable.exists():
        raise DbtError(f"dbt not found at {executable}: run `make setup` or set DBT_EXECUTABLE")
    full_env = {**os.environ, **(env or {})}
    if dsn is not None:
        full_env.update(dbt_env(dsn))
    full_env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    full_env.setdefault("DBT_USE_COLORS", "false")
    if target_path is not None:
        full_env["DBT_TARGET_PATH"] = str(target_path)
    command = [str(executable), *args, "--project-dir", str(project_dir), "--profiles-dir", str(PROFILES_DIR)]
    log.info("running dbt %s", " ".join(args))
    lines: list[str] = []
    with subprocess.Popen(command, cwd=project_dir, env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            log.info("dbt: %s", line)
    result = subprocess.CompletedProcess(command, process.returncode, "\n".join(lines), "")
    if check and process.returncode:
        tail = "\n".join(lines[-25:])
        raise DbtError(f"`dbt {' '.join(args)}` failed with exit code {process.returncode}:\n{tail}")
    return result


def build_manifest(project_dir: Path = PROJECT_DIR) -> Path:
    """Write the generated seeds (seeds/generated: the medicine names of drug-named-entity-recognition, common
    English words) and target/manifest.json with `dbt parse`, so Cosmos renders DAGs without running dbt at parse
    time and every seed the models read is there.

    Needs no warehouse: parsing renders the profile but does not connect.
    """
    from medical_telegram.transform.medicine_names import write_seeds

    write_seeds(project_dir / "seeds" / "generated")
    env = {key: os.environ.get(key, value) for key, value in _PARSE_ENV.items()}
    run_dbt(["parse", "--quiet"], project_dir=project_dir, env=env)
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists():
        raise DbtError(f"dbt parse did not write {manifest}")
    return manifest


if __name__ == "__main__":  # python -m medical_telegram.transform.dbt_runner: the generated seeds and the manifest (make setup)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(build_manifest())
