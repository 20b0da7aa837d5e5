# Two commands do all the set-up (see README): `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
TEST_VENV ?= .venv-test
SCENARIO ?= scenarios/fy_baseline.yaml

.PHONY: demo test check lint types format clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	touch $@

## demo: install into .venv and run the baseline scenario on the bundled sample
demo: $(VENV)/.installed
	$(VENV)/bin/territory-engine run $(SCENARIO)

## test: build a fresh virtual environment from pyproject.toml, lint, run the tests
test:
	rm -rf $(TEST_VENV)
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TEST_VENV)/bin/python -m pip install --quiet -e ".[dev]"
	$(TEST_VENV)/bin/ruff check territory_engine tests data benchmarks
	$(TEST_VENV)/bin/ruff format --check territory_engine tests data benchmarks
	$(TEST_VENV)/bin/mypy
	$(TEST_VENV)/bin/python -m pytest; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

## check: the fast loop in .venv: lint, types, tests without the browser, notebooks and slow cases
check: lint types
	$(VENV)/bin/python -m pytest -q -m "not slow and not browser and not notebook"; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

types: $(VENV)/.installed
	$(VENV)/bin/mypy

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check territory_engine tests data benchmarks
	$(VENV)/bin/ruff format --check territory_engine tests data benchmarks

format: $(VENV)/.installed
	$(VENV)/bin/ruff format territory_engine tests data benchmarks
	$(VENV)/bin/ruff check --fix territory_engine tests data benchmarks

clean:
	rm -rf $(VENV) $(TEST_VENV) out
