"""Generic CSV, TSV and JSONL through a column mapping: ``adapter.py`` reads and maps them with the SQL
in ``sql.py``; ``options.py`` declares what it reads (``--map``, ``--platform``, ``--delimiter``, ...)."""
