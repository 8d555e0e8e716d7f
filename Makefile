# Two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
PEOPLE ?= 10000
SEED ?= 42
# The suite runs on this many pytest-xdist workers, a test module per worker at a time
# (module fixtures build once), longest modules first (tests/conftest.py);
# `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: setup manifest demo test ui clean lint lock browser bench bench-accuracy bench-engines

$(BIN)/uv:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set, every process (each dbt
# build, each `lakehouse run`) would otherwise recompile its imports from source.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	@$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# The dbt manifest dagster-dbt loads: the catalogue rendered into dbt's generated files, then
# parsed. Importing the definitions never does either (they are a pure function of configuration).
manifest: $(VENV)/.installed
	@mkdir -p dbt_project/logs
	@$(BIN)/python -m transforms.dbt_catalogue > dbt_project/logs/prepare.log
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster-dbt project prepare-and-package \
		--file orchestration/dbt_project.py >> dbt_project/logs/prepare.log 2>&1 \
		|| { cat dbt_project/logs/prepare.log; exit 1; }

setup: $(VENV)/.installed manifest

demo: setup
	@$(BIN)/lakehouse demo --people $(PEOPLE) --seed $(SEED)

# Debian's headless Chromium + chromedriver for tests/test_browser.py (no-op when installed).
browser:
	bash scripts/install-browser.sh

test: setup browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Benchmark harness (issue 7): every stage at PEOPLE people, beside bare polars and bare Splink;
# then entity-resolution accuracy on both noise profiles against generic Splink (issue 17).
bench: setup
	$(BIN)/python -m benchmarks.harness --people $(PEOPLE) --seed $(SEED)
	$(BIN)/python -m benchmarks.accuracy --people $(PEOPLE) --seed $(SEED)

bench-accuracy: setup
	$(BIN)/python -m benchmarks.accuracy --people $(PEOPLE) --seed $(SEED)

# The whole graph on DuckDB and on Spark (local[2]) side by side, at PEOPLE people (issue 8).
bench-engines: setup
	$(BIN)/python -m benchmarks.engines --people $(PEOPLE) --seed $(SEED)

ui: setup
	$(BIN)/lakehouse ui

lint: setup
	$(BIN)/ruff check transforms orchestration tests

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .lakehouse
