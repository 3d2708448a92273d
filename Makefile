# Churn-retention workbench. `make run` starts the app, `make test` runs every test.
# Works on a fresh Linux machine with Python 3.11: the first run creates .venv and installs the
# pinned requirements; later runs reuse them (reinstalled only when requirements.txt changes).

PYTHON   ?= python3.11
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.requirements-installed
DATA_DIR := $(if $(CHURN_DATA_DIR),$(CHURN_DATA_DIR),data)
SAMPLE   := $(DATA_DIR)/sample/customers.csv
ADDRESS  ?= localhost
PORT     ?= 8501
# `make api`: where the REST API listens (API_ARGS="--insecure-local" serves without keys, locally)
API_ADDRESS ?= 127.0.0.1
API_PORT ?= 8000
API_ARGS ?=
CHROMIUM := /usr/bin/chromium
# What `make test` passes to pytest, e.g. make test PYTEST_ARGS="tests/app -x"
PYTEST_ARGS ?= tests
# pytest-xdist workers for `make test` (each test file stays on one worker); TEST_WORKERS=0 runs
# everything in one process.
TEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help setup sample run api test chromium bench fuzz clean distclean

help:
	@echo "make run    start the app on http://$(ADDRESS):$(PORT) (ADDRESS=0.0.0.0 to share it)"
	@echo "make api    start the REST API on http://$(API_ADDRESS):$(API_PORT) (needs CHURN_API_KEY and"
	@echo "           CHURN_ADMIN_KEY, or API_ARGS=--insecure-local); docs at /docs"
	@echo "make test   run the whole test suite (installs Debian's Chromium if missing);"
	@echo "           PYTEST_ARGS=\"tests/app -x\" runs a part"
	@echo "make bench  run the benchmarks and print figures against targets"
	@echo "make fuzz   the long fuzz run of the validator and scoring (FUZZ_EXAMPLES=2000)"
	@echo "make clean  remove caches, test artifacts and the generated sample"
	@echo "make distclean  also remove .venv"

# The virtual environment, created once with Python 3.11.
$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: $(PYTHON) not found. Install Python 3.11, or run: make PYTHON=/path/to/python3.11 ..." >&2; \
	  exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "error: $(PYTHON) is not Python 3.11 (the requirements are pinned for 3.11)." >&2; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

# Pinned requirements, installed again only when requirements.txt is newer than the stamp.
$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check --no-input -r requirements.txt
	@touch $@

setup: $(STAMP)

# The sample customers (generated, not tracked in git); regenerated when the generator or the
# hidden outcome model of its campaign history changes.
$(SAMPLE): churn/synth.py churn/simulate.py | $(STAMP)
	CHURN_DATA_DIR=$(DATA_DIR) $(PY) -m churn synth --out $(DATA_DIR)/sample

sample: $(SAMPLE)

run: setup sample
	$(PY) -m streamlit run app.py --server.headless true --server.address $(ADDRESS) \
	  --server.port $(PORT) --browser.gatherUsageStats false

api: setup sample
	$(PY) -m churn api --host $(API_ADDRESS) --port $(API_PORT) $(API_ARGS)

# Debian's Chromium for the browser test (never `playwright install`).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "error: $(CHROMIUM) is missing and installing it needs root. Run as root, or:" >&2; \
	       echo "  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-color-emoji" >&2; \
	       exit 1; fi; \
	  command -v apt-get >/dev/null 2>&1 || { \
	    echo "error: $(CHROMIUM) is missing and apt-get is not available; install Chromium so that $(CHROMIUM) exists." >&2; \
	    exit 1; }; \
	  echo "Installing Debian's Chromium for the browser test..."; \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    chromium fonts-noto-color-emoji || exit 1; \
	fi

# pytest's exit status is make's: any failure, error or an empty collection (status 5) fails.
test: setup sample chromium
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: setup sample
	$(PY) -m churn bench

# The fuzz test of tests/test_fuzz.py with many more damaged files than the suite's 40.
FUZZ_EXAMPLES ?= 2000
fuzz: setup
	CHURN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py -q -p no:cacheprovider

clean:
	rm -rf .pytest_cache tests/artifacts bench/results $(DATA_DIR)/sample
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
