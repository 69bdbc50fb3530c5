# Two entry points for a fresh clone: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint unit models bench clean

# `.[dev]` includes the `emulator` extra (starlette, uvicorn), which the demo and the tests use.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	@# uv installs the same packages in about 4 s where pip takes 25-40 s (a third of `make test`
	@# on a fresh clone); pip stays the fallback when uv cannot be had.
	$(BIN)/python -m pip install --quiet uv && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' || \
	  $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	@bash scripts/demo.sh

lint: setup
	$(BIN)/ruff check reconciler reconciler_emulator reconciler_apis tests scripts
	$(BIN)/ruff format --check reconciler reconciler_emulator reconciler_apis tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -q -n 2 --dist worksteal --durations=10

test: lint unit

bench: setup
	$(BIN)/python scripts/bench.py

models: setup
	$(BIN)/python scripts/generate_models.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
