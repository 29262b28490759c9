# exam-builder: the two commands are `make demo` and `make test`; each sets up what it needs.
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# One xdist worker per core: the suite is CPU-bound (a third worker on two cores gained nothing).
TEST_WORKERS ?= 2
BENCH_ARGS  ?=

.PHONY: demo test lint install system-deps node-deps benchmarks clean labextension

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m exam_builder.lab.install  # the author's desk into JupyterLab (an editable install skips data-files)
	touch $(STAMP)

install: $(STAMP)

## The whole exam cycle on a made-up sample cohort, in ./demo-course (rebuilt each run).
demo: $(STAMP)
	$(VENV)/bin/exam-builder demo --dir demo-course

## Debian packages the tests use: chromium (browser tests), PostgreSQL and npm.
system-deps:
	bash scripts/system-deps.sh

## JupyterHub's configurable-http-proxy (npm) into .cache/node, for the hub tests.
node-deps: system-deps
	bash scripts/node-deps.sh

## The style gate: ruff (pyflakes, pycodestyle, bugbear, isort) on every file, mypy on the domain packages
## (both configured in pyproject.toml). `make test` runs it first.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## Every test: unit, corpus, property, nbgrader round trips, PostgreSQL, browser and JupyterHub tests.
test: $(STAMP) lint system-deps node-deps
	PATH="$(CURDIR)/.cache/node/node_modules/.bin:$$PATH" bash scripts/with-postgres.sh $(VENV)/bin/pytest -n $(TEST_WORKERS) --timeout 900 --durations=25 $(PYTEST_ARGS)

## Every benchmark, with its figures (BENCH_ARGS=--smoke: each at a small size, to see it works).
benchmarks: $(STAMP)
	$(PY) benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf demo-course .pytest_cache .hypothesis build

## Rebuild the author's desk's JupyterLab extension after editing labextension/ (needs npm; the built
## assets are committed, so `make install` alone installs it: docs/authoring-in-jupyterlab.md).
labextension: $(STAMP)
	PY=$(CURDIR)/$(PY) bash scripts/build-labextension.sh
