"""`python -m medical_telegram.devstack.run_full_pipeline`: full_pipeline under Airflow on this machine.

On a machine with no Telegram credentials and no Docker engine (the defaults settle both), it imports the
bundled Telegram Desktop export, runs the detector and dbt in their local virtual environments, checks
every layer with Great Expectations and rebuilds the Data Docs. See run_dag for the Airflow it uses.
"""

import os

from medical_telegram.devstack.run_dag import main

if __name__ == "__main__":
    if not os.environ.get("TELEGRAM_EXPORT_PATH"):
        # The bundled export is @lobelia4cosmetics's (its result.json names no username).
        os.environ.setdefault("TELEGRAM_EXPORT_CHANNEL", "lobelia4cosmetics")
    raise SystemExit(main(default_dag="full_pipeline"))
