# The two commands that set up everything on a fresh machine (uv bootstraps itself from PyPI):
#   make demo   – the nightly job on generated sample exports (local DuckDB, embedded default)
#   make test   – the test suite
UV := ./scripts/uv.sh
POSTS ?= 20000
PYTEST_ARGS ?=

.PHONY: demo test sync lint bench clean

sync:
	$(UV) sync --frozen

demo: sync
	$(UV) run --frozen discourse demo --posts $(POSTS)

# The test environment includes the production extras (Postgres + Celery providers) so the
# production metadata-DB and Celery-worker paths are tested against the local services.
test:
	$(UV) sync --frozen --extra prod
	$(UV) run --frozen --extra prod pytest $(PYTEST_ARGS)

lint: sync
	$(UV) run --frozen ruff check src dags tests bench

bench: sync
	$(UV) run --frozen python bench/bench_ingest.py

clean:
	rm -rf discourse_home .pytest_cache
