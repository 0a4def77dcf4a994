"""Bluesky Jetstream JSON lines (post creates kept, other events counted as skipped): ``adapter.py`` maps
them with the DuckDB statements in ``sql.py``; ``options.py`` declares what it reads."""
