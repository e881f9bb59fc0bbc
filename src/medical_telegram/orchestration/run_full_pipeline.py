"""`python -m medical_telegram.orchestration.run_full_pipeline`: full_pipeline under Airflow on this machine.

On a machine with no Telegram credentials and no Docker engine (the defaults settle both), it imports the
bundled Telegram Desktop export, runs the detector and dbt in their local virtual environments, checks
every layer with Great Expectations and rebuilds the Data Docs. See run_dag for the Airflow it uses.
"""

from medical_telegram.orchestration.run_dag import main

if __name__ == "__main__":
    raise SystemExit(main(default_dag="full_pipeline"))
