# Two commands on a fresh machine with Python 3.11 and make:
#   make demo   -> sets up .venv, analyses the embedded Helsinki extract, writes out/demo/map.html
#   make test   -> sets up .venv and runs the test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test fast coverage lint bench browser clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/circles demo --out out/demo

# Debian's Chromium and CJK fonts for the headless-browser map tests (tests skip without them).
browser:
	@bash tools/install_browser.sh

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The inner loop: in-process tests only (no subprocess runs, no browser).
fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not browser"

# Line coverage of the package by the in-process tests (subprocess runs are not traced).
coverage: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e and not browser" --cov=circles --cov-report=term:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy circles/engine circles/errors.py circles/crs.py circles/config.py circles/result.py circles/coverage.py circles/residents.py
	$(BIN)/python -m numpydoc lint $$(find circles -name '*.py' | sort)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
