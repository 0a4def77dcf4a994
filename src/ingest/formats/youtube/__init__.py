"""YouTube comments from youtube-comment-downloader (JSON lines or ``--pretty``): ``adapter.py`` maps
them with the DuckDB statements in ``sql.py``; ``options.py`` declares what it reads."""
