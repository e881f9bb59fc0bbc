"""Shared code of the medical Telegram warehouse: the lake record, the export importer, the loaders and
the warehouse connection. Installed into the Airflow environment and into the images' environments."""
