"""X API v2 JSONL as twarc2 writes it (pages, streaming lines, flattened tweets): ``adapter.py`` maps it
with the DuckDB statements in ``sql.py``; ``options.py`` declares what it reads."""
