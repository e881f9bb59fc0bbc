"""Schemathesis over the API's own OpenAPI schema: generated valid and invalid requests (30 per operation,
fixed seed) never get a 5xx, and every answer matches the documented status codes, content type and schema.

Runs schemathesis' CLI against the live server (its pytest plugin does not load under pytest 9.2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
])


def test_openapi_generated_requests_get_no_server_error(api, tmp_path):
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{api.base_url}/openapi.json", "--checks", CHECKS,
         "--max-examples", "30", "--seed", "20260118", "--workers", "2", "--no-color",
         "--generation-database", ":memory:", "--phases", "examples,coverage,fuzzing",
         "--suppress-health-check", "all", "--report-dir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
