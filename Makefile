# The only entry points people need: install, run, test (plus lint, bench, schema).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint schema bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: install
	$(BIN)/member360 demo
	@echo "Open http://$(HOST):$(PORT)/graphql and add the header  Authorization: Bearer <the key above>"
	$(BIN)/member360 serve --host $(HOST) --port $(PORT)

test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

schema: install
	$(BIN)/member360 export-schema > schema.graphql

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) member360.db* exports
