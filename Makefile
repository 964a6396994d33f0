# The two commands of the README:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SHARED ?= ../shared/data
DEMO_DB ?= demo/citelens-demo.db
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Worker processes for the demo ingest: the cores, at most 4 (each loads the ~100 MB stance model).
JOBS   ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
# The bundled corpus (data/demo-corpus/README.md): the same demo on every machine.
DEMO_INPUTS ?= data/demo-corpus
# The stance model for the demo ingest (empty: the default); CLASSIFIER=linear is ~20 % faster (README).
CLASSIFIER ?=

.PHONY: demo index serve test lint bench install install-dev clean

# Python's version is checked before the virtualenv is made: an older python3 (3.10 on Ubuntu 22.04) made one,
# then pip refused the package, and the half-made .venv stayed behind for the next try.
$(BIN)/citelens: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "CiteLens needs Python 3.11 or newer; PYTHON=$(PYTHON) is $$($(PYTHON) -V 2>/dev/null || echo 'not found')." >&2; \
	  echo "Name a newer one, e.g.: make $(or $(MAKECMDGOALS),demo) PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	@touch $@

install: $(BIN)/citelens

$(VENV)/.dev-installed: pyproject.toml $(BIN)/citelens
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install-dev: $(VENV)/.dev-installed

## demo: set up, build the demo index from the bundled corpus and serve it on localhost
demo: install
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/citelens ingest $(DEMO_INPUTS) --db $(DEMO_DB) --jobs $(JOBS) $(if $(CLASSIFIER),--classifier $(CLASSIFIER)); test $$? -le 1
	@echo "Serving the demo index at http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/citelens serve --db $(DEMO_DB) --host $(HOST) --port $(PORT)

## test: set up (with dev extras) and run the whole test suite
test: install-dev
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

## bench: every benchmark; results land in docs/benchmarks.md
bench: install-dev
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/eval_extraction.py
	$(BIN)/python benchmarks/eval_resolution.py --perturbed

clean:
	rm -rf $(VENV) demo build dist src/*.egg-info .pytest_cache .ruff_cache
