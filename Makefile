# The two commands that set up everything on a fresh machine (uv bootstraps itself from PyPI):
#   make demo   – the nightly job on generated sample exports (local DuckDB, embedded default)
#   make test   – the test suite
# and for the edit-test loop:
#   make check  – lint plus the fast lane (every test not marked integration, e2e or bench), under 2 min
UV := ./scripts/uv.sh
POSTS ?= 20000
PYTEST_ARGS ?=
# The suite runs on this many pytest-xdist workers, one test file at a time each (module fixtures are
# built once); most of a DAG or Celery test is waiting on the scheduler, which the other worker uses.
PYTEST_WORKERS ?= 2
# The project's own modules as bytecode too (the packages are compiled by uv: scripts/uv.sh), so
# that no process compiles them again where PYTHONDONTWRITEBYTECODE is set.
COMPILE := $(UV) run --frozen --no-sync python -m compileall -q src dags >/dev/null

.PHONY: demo test test-nightly check sync lint bench clean codegen

sync:
	$(UV) sync --frozen
	$(COMPILE)
	@# Data Docs assets (pinned npm packages, docs/quality.md); without npm the pages need internet
	-$(UV) run --frozen python -m quality.datadocs install

demo: sync
	$(UV) run --frozen discourse demo --posts $(POSTS)

# The test environment includes the production extras (Postgres + Celery providers) so the
# production metadata-DB and Celery-worker paths are tested against the local services.
test:
	$(UV) sync --frozen --extra prod
	$(COMPILE)
	$(UV) run --frozen --extra prod pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The nightly CI profile: the whole suite plus the long schedules (every crash trial, the adapters'
# property-based fuzzing at its full size).
test-nightly:
	$(UV) sync --frozen --extra prod
	$(COMPILE)
	DISCOURSE_CRASH_ALL=1 HYPOTHESIS_PROFILE=nightly $(UV) run --frozen --extra prod \
		pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: sync
	$(UV) run --frozen ruff check src dags tests bench

# The fast lane: no dbt build, no Airflow, no end-to-end run (same environment as `make test`).
check:
	$(UV) sync --frozen --extra prod
	$(COMPILE)
	$(UV) run --frozen --extra prod ruff check src dags tests bench
	$(UV) run --frozen --extra prod pytest -n $(PYTEST_WORKERS) --dist loadfile \
		-m "not integration and not e2e and not bench" $(PYTEST_ARGS)

# Regenerate the dbt files derived from the canonical schema (src/ingest/schema.py).
codegen:
	$(UV) run --frozen python -m discourse.transform.codegen

bench: sync
	$(UV) run --frozen python bench/bench_ingest.py

clean:
	rm -rf discourse_home .pytest_cache
