"""Zeeschuimer / 4CAT NDJSON captures (TikTok posts and comments, Instagram, X, Threads): ``adapter.py``
maps them with the DuckDB statements in ``sql.py``; ``options.py`` declares what it reads."""
