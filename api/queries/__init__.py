"""The SQL of each resource, in one place per resource. Parameterised only: values never enter the text."""
