# gridgov: `make run` serves the demo, `make test` runs the tests. Both set up everything they need
# on a fresh Debian machine (system packages, the virtualenv, the demo data) and are re-runnable.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_GPKG := data/build/xixiu.gpkg
DEMO_DB := var/gridgov.sqlite
export SPATIALITE_LIBRARY_PATH ?= mod_spatialite

RUNTIME_PACKAGES := libsqlite3-mod-spatialite libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
# gdal-bin: ogrinfo/ogr2ogr, a real OGC API Features client in tests/test_ogc_clients.py
TEST_PACKAGES := $(RUNTIME_PACKAGES) chromium fonts-noto-cjk poppler-utils gdal-bin

.PHONY: run test lint typecheck demo system-packages test-system-packages bench clean

# A planner key for the demo only; set your own keys with GRIDGOV_API_KEYS or `gridgov key add`.
DEMO_PLANNER_KEY ?= demo-planner-key-xixiu

run: system-packages $(BIN)/gridgov $(DEMO_DB)
	@$(BIN)/gridgov db init --database sqlite:///$(DEMO_DB)  # upgrades a demo made by an older gridgov
	@echo "demo planner key (X-API-Key): $(DEMO_PLANNER_KEY)"
	GRIDGOV_DATABASE_URL=sqlite:///$(DEMO_DB) GRIDGOV_API_KEYS='{"$(DEMO_PLANNER_KEY)": "planner"}' \
		$(BIN)/gridgov serve

test: test-system-packages $(BIN)/gridgov
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/gridgov
	$(BIN)/ruff check .
	$(BIN)/mypy

demo: $(DEMO_DB)

system-packages:
	@scripts/ensure-debian-packages $(RUNTIME_PACKAGES)

test-system-packages:
	@scripts/ensure-debian-packages $(TEST_PACKAGES)
	@scripts/ensure-postgis

$(BIN)/gridgov: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

$(DEMO_GPKG): $(BIN)/gridgov $(wildcard data/*.py data/generator/*.py) data/source/520402.gcj02.geojson
	$(BIN)/gridgov demo build --out $@

# Rebuilt from scratch whenever the demo data changes, so `make run` can be repeated safely.
$(DEMO_DB): $(DEMO_GPKG)
	rm -f $@ $@-wal $@-shm
	$(BIN)/gridgov db init --database sqlite:///$@
	$(BIN)/gridgov import $(DEMO_GPKG) --database sqlite:///$@ --author demo --valid-from 2024-01-01 \
		--document-ref "synthetic demo"

bench: $(BIN)/gridgov
	@cat bench/README.md

clean:
	rm -rf $(VENV) var data/build test-output
