# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres install clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/backoffice demo

# The whole suite runs twice: on SQLite and on the PostgreSQL server on 127.0.0.1:5432.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests
	BACKOFFICE_TEST_DB=postgres $(BIN)/python -m pytest -n 2 tests

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

test-postgres: $(STAMP)
	BACKOFFICE_TEST_DB=postgres $(BIN)/python -m pytest -n 2 tests

bench: $(STAMP)
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) .backoffice
