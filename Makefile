# Tallyhouse: every target creates and reuses .venv itself, and keeps .venv/bin on PATH
# because dagster-dbt calls the `dbt` executable.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: demo test test-spark lint bench ui install install-dev clean chromium

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	mkdir -p $(DAGSTER_HOME)
	tallyhouse demo

# Two workers (the CI machine's two cores); tests that share a billed warehouse stay on one
# worker (tests/conftest.py). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-dev chromium
	mkdir -p $(DAGSTER_HOME)
	pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The dashboards' browser test drives Debian's headless Chromium (never `playwright install`).
chromium:
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# The same models on a local Spark against DuckDB (docs/scale-out.md): dbt-spark and PySpark
# (the `spark` extra), Java 17+ from Debian when missing.
$(VENV)/.installed-spark: $(VENV)/.installed-dev
	java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || \
		(apt-get update -qq && apt-get install -y -qq default-jre-headless)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,spark]'
	touch $@

test-spark: $(VENV)/.installed-spark
	mkdir -p $(DAGSTER_HOME)
	pytest tests/spark -m spark $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	ruff check dagster_project rule_engine dashboards tests
	ruff format --check dagster_project rule_engine dashboards tests

bench: $(VENV)/.installed
	$(PY) -m bench $(BENCH_ARGS)

ui: $(VENV)/.installed
	tallyhouse ui

clean:
	rm -rf data .dagster_home dbt_project/target dbt_project/logs
