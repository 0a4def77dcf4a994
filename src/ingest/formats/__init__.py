"""The export formats, one package each: ``ingest.formats.<name>`` holds ``adapter.py`` (the adapter,
registered with ``ingest.registry.register``), ``options.py`` (its typed ``OPTIONS``) and, where the
mapping is DuckDB SQL, ``sql.py``. What formats share is in ``ingest.formats.common``; a format never
imports from another format. See ``docs/adding-a-format.md``.
"""
