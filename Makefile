# Two commands set up a fresh machine: `make demo` and `make test`.
# Both create the uv virtual environment from requirements.txt (installing uv
# with pip when it is missing) and find or install jq; both are safe to rerun.
# `make test` also installs the test-only packages of requirements-test.txt and pyspark
# (requirements-spark.txt); `make demo` does not.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
INSTALLED := $(VENV)/.installed-requirements
TEST_INSTALLED := $(VENV)/.installed-test-requirements
# jq may be installed into .venv/bin (scripts/ensure_jq.sh): last on PATH, so the tests and the
# benchmark find it there while python3 and a system jq still come first.
export PATH := $(PATH):$(CURDIR)/$(VENV)/bin
DEMO_DIR ?= demo
BENCH_EVENTS ?= 2000000

.PHONY: setup setup-test setup-spark demo test test-spark bench bench-quick jq

setup: $(INSTALLED) jq

# Reinstalls only when requirements.txt changes; `uv pip sync` makes the
# environment match the pinned file exactly.
$(INSTALLED): requirements.txt
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user uv
	@[ -x $(PY) ] || $(UV) venv --quiet $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) requirements.txt
	@touch $@

setup-test: $(TEST_INSTALLED)

# Installed on top of the runtime packages (`uv pip install` adds, `sync` would remove them
# again); redone whenever the runtime set was synced, since that sync removes them.
$(TEST_INSTALLED): $(INSTALLED) requirements-test.txt
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-test.txt
	@touch $@

# requirements-spark.txt is the scale-out (pyspark, for analyze_spark.py and its parity tests).
setup-spark: $(TEST_INSTALLED)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-test.txt -r requirements-spark.txt

jq:
	@./scripts/ensure_jq.sh

demo: setup
	$(PY) samples/generate_sample_logs.py $(DEMO_DIR)/logs
	$(PY) analyze_ingest.py $(DEMO_DIR)/case.db $(DEMO_DIR)/logs; \
		status=$$?; [ $$status -le 1 ] || exit $$status
	$(PY) analyze_hunt.py $(DEMO_DIR)/case.db

# The whole suite on both cores (pytest-xdist), the Spark parity tests included (pyspark from
# requirements-spark.txt; Java 17 or later on the PATH, or they are skipped with the reason).
# --dist loadscope keeps each test module on one worker, so Spark starts once.
test: setup setup-spark
	$(PY) -m pytest -q -n 2 --dist loadscope

# Only the Spark parity tests (marker `spark`).
test-spark: setup setup-spark
	$(PY) -m pytest -q -m spark

# Speed and memory against the alternatives (not part of `make test`).
bench: setup
	$(PY) bench/run_bench.py $(BENCH_EVENTS)

bench-quick: setup
	$(PY) bench/run_bench.py 100000
