"""Reddit dumps (Pushshift / Arctic Shift NDJSON of submissions and comments): ``adapter.py`` maps them
with the DuckDB statements in ``sql.py``; ``options.py`` declares what it reads."""
