"""The local service a developer or a user runs on one machine (`make run`): the processes, the demo, a REST
client, and running a DAG in-process. Imported by the CLI only: nothing else of the package depends on it."""
