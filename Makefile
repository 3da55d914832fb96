# The only entry points people need: install, run, test (plus lint, bench, schema).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
BENCH_STAMP := $(VENV)/.installed-bench-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

FRONTEND := frontend
FE_STAMP := $(FRONTEND)/node_modules/.installed-$(shell sha1sum $(FRONTEND)/package-lock.json | cut -c1-12)
FE_SRC := $(shell find $(FRONTEND)/src $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/codegen.ts -type f -not -path '*/src/gql/*')

.PHONY: install run test lint schema bench scale-demo clean chromium

install: $(STAMP) $(FRONTEND)/dist/index.html

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The bench extra on top of dev (profiler, the writers bench/profile/xlsx_writers.py compares).
# After $(STAMP), whose recipe removes every stamp, so a changed pyproject.toml reinstalls both.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

$(FE_STAMP): $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	touch $@

# The web app: GraphQL types generated from schema.graphql, type-checked, built by Vite.
$(FRONTEND)/dist/index.html: $(FE_STAMP) schema.graphql $(FE_SRC)
	cd $(FRONTEND) && npm run build

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
chromium:
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

run: install
	$(BIN)/member360 demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in with a demo login above (partner apps: http://$(HOST):$(PORT)/graphql with header Authorization: Bearer <the key above>)"
	$(BIN)/member360 serve --host $(HOST) --port $(PORT)

test: install lint chromium
	cd $(FRONTEND) && npx vitest run
	$(BIN)/python -m pytest

# mypy checks every backend module but these, which still have type errors (mostly SQLModel
# columns compared in queries, which mypy types as bool); `$(BIN)/mypy backend/member360` lists
# them all. Their errors stay silent where checked modules import them.
MYPY_UNCHECKED := app.py crossorg.py demo.py auth/users.py exports/jobs.py exports/queue.py \
	exports/types.py ingest/importer.py ingest/schemas.py ingest/unit.py orgs/service.py \
	reports/interactions.py migrations/versions/0001_initial_schema.py \
	migrations/versions/0003_export_jobs.py

lint: install
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench
	$(BIN)/mypy --follow-imports=silent backend/member360 \
		$(foreach f,$(MYPY_UNCHECKED),--exclude '^backend/member360/$(f)$$')
	$(BIN)/python -m pytest -q -p no:randomly tests/test_layering.py

schema: install
	$(BIN)/member360 export-schema > schema.graphql

bench: install $(BENCH_STAMP)
	$(BIN)/python -m bench.drive.run

# The docker-compose topology on loopback (2 APIs, 2 workers, mail sink) against PostgreSQL, connecting
# as production does: migrations as the owner, the API and workers as the app role under row-level
# security. Settings as a deployment's (M360_DATABASE_URL, M360_MIGRATION_DATABASE_URL, M360_APP_DB_ROLE);
# default owner postgresql://postgres@127.0.0.1:5433/m360_bench, role member360_app. See docs/benchmarks-scale.md.
scale-demo: install
	$(BIN)/python -m bench.topology.scale_demo

clean:
	rm -rf $(VENV) member360.db* exports $(FRONTEND)/node_modules $(FRONTEND)/dist
