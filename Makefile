# twinecon: two commands on a fresh machine.
#   make run   create .venv, install twinecon, run the built-in scenario warehouse-market
#   make test  create .venv, install the test extras, run the whole test suite

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: run test bench lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	@touch $@

run: $(STAMP)
	$(BIN)/twinecon run warehouse-market --out runs/warehouse-market

test: $(TSTAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_economy.py
	$(BIN)/python bench/bench_ledger.py

lint: $(TSTAMP)
	$(BIN)/ruff check twinecon chain worlds economy agents scenarios tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
