"""The analytical API: FastAPI over the warehouse marts (see api/main.py for the app)."""
