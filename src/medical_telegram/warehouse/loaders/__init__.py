"""Loaders of the lake's files into the raw tables: messages.py and detections.py, on the batches of
batches.py (COPY, load_log, skip what was loaded, quarantine what cannot be), reporting in results.py."""
