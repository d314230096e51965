# twinecon: two commands on a fresh machine.
#   make run   create .venv, install twinecon, run the built-in scenario warehouse-market
#   make test  create .venv, install the test extras, run the whole test suite
#   (make test also runs node-deps: hardhat for the rpc ledger tests, if npm is on PATH)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
HARDHAT := tools/hardhat
NSTAMP  := $(HARDHAT)/node_modules/.installed

.PHONY: run test bench lint clean node-deps

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
	$(BIN)/twinecon run warehouse-market --out runs/warehouse-market --force

# hardhat 2 for the local JSON-RPC node (`twinecon node start`, the rpc ledger tests). Without
# npm this is a note, not a failure: the rpc tests then skip (they fail under CI=true).
node-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(NSTAMP); \
	else echo "make: npm not found; skipping hardhat, so the rpc ledger tests will skip (install Node.js 20 and npm, then make node-deps)"; fi

$(NSTAMP): $(HARDHAT)/package.json $(wildcard $(HARDHAT)/package-lock.json)
	@if [ -f $(HARDHAT)/package-lock.json ]; then \
	  npm ci --prefix $(HARDHAT) --no-audit --no-fund --loglevel=error; \
	else npm install --prefix $(HARDHAT) --no-audit --no-fund --loglevel=error; fi
	@touch $@

test: $(TSTAMP) node-deps
	$(BIN)/python -m pytest

bench: $(TSTAMP) node-deps
	$(BIN)/python bench/bench_backends.py
	$(BIN)/python bench/bench_ledger.py
	$(BIN)/python bench/bench_economy.py
	$(BIN)/python bench/bench_markets.py
	$(BIN)/python bench/bench_physics.py
	$(BIN)/python bench/bench_logistics.py
	$(BIN)/python bench/bench_windfarm.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_isolation.py
	$(BIN)/python bench/bench_strategies.py
	$(BIN)/python bench/bench_cli_start.py

lint: $(TSTAMP)
	$(BIN)/ruff check twinecon chain worlds economy agents scenarios tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
