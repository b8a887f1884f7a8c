# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark
# Spark runs on Java 17 (Spark 3.5 and 4 both support it; a newer Java on the machine may not suit Spark 3.5).
JAVA17_HOME = $$(ls -d /usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -n 1)
DATA ?= sample_data/leads.csv

.PHONY: run test setup spark-setup browser java bench clean screenshots

$(PY):
	$(shell command -v $(PYTHON) >/dev/null 2>&1 && echo $(PYTHON) || echo python3) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# pyspark for `--engine spark` and its tests; `make run` does without it.
$(SPARK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,spark]"
	touch $(SPARK_STAMP)

spark-setup: $(SPARK_STAMP)

# Debian's chromium for the real-browser tests (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's Java 17 for Spark, when the machine has none.
java:
	@if [ -z "$(JAVA17_HOME)" ]; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

run: setup
	$(PY) -m streamlit run app.py --browser.gatherUsageStats false -- --data $(DATA)

# The suite on up to 4 workers (a test file stays on one worker: its server, browser and Spark session are shared);
# `make test JOBS=0` runs it in one process.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

test: setup spark-setup browser java
	JAVA_HOME=$(JAVA17_HOME) $(PY) -m pytest -q -n $(JOBS) --dist loadfile

bench: setup spark-setup browser java
	$(PY) benchmarks/bench_backtest.py --rows 100000
	$(PY) benchmarks/bench_backtest.py --rows 1000000 --data both
	$(PY) benchmarks/bench_suggest.py --rows 1000000
	$(PY) benchmarks/bench_browser.py --rows 50000
	$(PY) benchmarks/bench_browser.py --rows 1000000
	$(PY) benchmarks/bench_cli.py
	$(PY) benchmarks/bench_autosave.py
	$(PY) benchmarks/bench_ship.py --rows 1000000
	JAVA_HOME=$(JAVA17_HOME) $(PY) benchmarks/bench_spark.py --rows 1000000
	$(PY) benchmarks/bench_sessions.py --rows 1000000 --sessions 8 --seconds 60
	$(PY) benchmarks/bench_store_readers.py
	$(PY) benchmarks/bench_kills.py --kills 200

# The README's screenshots (docs/designer.png, docs/review.png, docs/report.png); tests never write tracked files.
screenshots: setup browser
	$(PY) benchmarks/screenshots.py
	$(PY) benchmarks/report_screenshot.py

clean:
	rm -rf $(VENV) .pytest_cache lead_store.duckdb
