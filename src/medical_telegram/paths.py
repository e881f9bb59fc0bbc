"""Where the project checkout is: dags/, include/, sample/, .venvs/. MEDTEL_PROJECT_DIR overrides it where the
package is installed without the checkout beside it (the Airflow image)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(os.environ.get("MEDTEL_PROJECT_DIR") or Path(__file__).resolve().parents[2]).resolve()
