"""What the DAG files share: Assets, settings, default arguments, alerts, containerized tasks and task groups.

DAG files under dags/ stay thin: each imports a factory from here and calls it, so full_pipeline reuses the
same task groups as the single-purpose DAGs. Importing this package is cheap (nothing touches the network,
the warehouse or Airflow's database at import time), because every DAG file parse pays for it.
"""
