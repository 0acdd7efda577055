# gridgov: `make run` serves the demo, `make test` runs the tests. Both set up everything they need
# on a fresh Debian machine (system packages, the virtualenv, the demo data) and are re-runnable.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_GPKG := data/build/xixiu.gpkg
DEMO_DB := var/gridgov.sqlite
export SPATIALITE_LIBRARY_PATH ?= mod_spatialite

# Debian packages: one list (scripts/debian-packages.txt) for the Makefile, docker/Dockerfile and CI.
RUNTIME_PACKAGES := $(shell scripts/system-packages runtime)
TEST_PACKAGES := $(shell scripts/system-packages test)
# Python packages: pinned in requirements/*.lock (pip-tools, from pyproject.toml; `make lock` updates them).
LOCK := requirements/dev.lock

# The tests run in parallel (pytest-xdist), whole files per worker so that module fixtures (a browser, a
# server) start once. 2 workers for the project's 2-core machines; PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: run test test-slow lint lock demo system-packages test-system-packages bench clean

# A planner key for the demo only; set your own keys with GRIDGOV_API_KEYS or `gridgov key add`.
DEMO_PLANNER_KEY ?= demo-planner-key-xixiu

run: system-packages $(BIN)/gridgov $(DEMO_DB)
	@$(BIN)/gridgov db init --database sqlite:///$(DEMO_DB)  # upgrades a demo made by an older gridgov
	@echo "demo planner key (X-API-Key): $(DEMO_PLANNER_KEY)"
	GRIDGOV_DATABASE_URL=sqlite:///$(DEMO_DB) GRIDGOV_API_KEYS='{"$(DEMO_PLANNER_KEY)": "planner"}' \
		$(BIN)/gridgov serve

# Everything but the long runs (marked slow); under 8 minutes on an idle 2-core machine.
# The ogctests validator (OGC API Features Part 1 core), in its own virtualenv: its pins (pytest < 9,
# pyarrow) must not leak into gridgov's (tests/test_ogc_clients.py runs it from here).
OGCTESTS := .venv-ogctests/bin/python
$(OGCTESTS):
	$(PYTHON) -m venv .venv-ogctests
	.venv-ogctests/bin/pip install --quiet ogctests==0.1.15

test: test-system-packages $(BIN)/gridgov $(OGCTESTS)
	@$(PYTEST) -m "not slow" $(PYTEST_ARGS) || { status=$$?; \
		[ $$status -ne 5 ] || echo "make test: pytest collected no test" >&2; exit $$status; }

# The long runs: random sequences of changes, rebuilding the demo, the long fuzz (CI's second step).
test-slow: test-system-packages $(BIN)/gridgov
	@$(PYTEST) -m slow $(PYTEST_ARGS) || { status=$$?; [ $$status -eq 5 ] && echo "(no slow test selected)" \
		|| exit $$status; }

# ruff and mypy --strict, as .pre-commit-config.yaml runs them (`.venv/bin/pre-commit install` for a git hook).
lint: $(BIN)/gridgov
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure

# Re-pin the Python packages after a change to pyproject.toml's dependencies (needs the registry).
lock: $(BIN)/gridgov
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--extra dev -o $(LOCK) pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		-o requirements/runtime.lock pyproject.toml

demo: $(DEMO_DB)

system-packages:
	@scripts/ensure-debian-packages $(RUNTIME_PACKAGES)

test-system-packages:
	@scripts/ensure-debian-packages $(TEST_PACKAGES)
	@scripts/ensure-postgis

$(BIN)/gridgov: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
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
