# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= sample_data/leads.csv

.PHONY: run test setup browser bench clean screenshots

$(PY):
	$(shell command -v $(PYTHON) >/dev/null 2>&1 && echo $(PYTHON) || echo python3) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the real-browser tests (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

run: setup
	$(PY) -m streamlit run app.py --browser.gatherUsageStats false -- --data $(DATA)

test: setup browser
	$(PY) -m pytest -q

bench: setup browser
	$(PY) benchmarks/bench_backtest.py --rows 100000
	$(PY) benchmarks/bench_backtest.py --rows 1000000 --data both
	$(PY) benchmarks/bench_suggest.py --rows 1000000
	$(PY) benchmarks/bench_browser.py --rows 50000
	$(PY) benchmarks/bench_browser.py --rows 1000000
	$(PY) benchmarks/bench_cli.py
	$(PY) benchmarks/bench_autosave.py

# The README's screenshot (docs/designer.png); tests never write tracked files.
screenshots: setup browser
	$(PY) benchmarks/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache lead_store.duckdb
