"""The transformation layer outside dbt's own files: running dbt, the medicine names generated for its seeds, and
the evaluation of product extraction against the labelled posts."""
