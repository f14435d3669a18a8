# Enlace — bootstrap, run and test. Every target is idempotent and works on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps

.PHONY: install run test test-py test-gateway demo lint bench clean esquema

install: $(STAMPS)/python $(STAMPS)/gateway $(STAMPS)/web

$(STAMPS)/python: requirements.lock pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(STAMPS)/gateway: gateway/package-lock.json
	@mkdir -p $(STAMPS)
	@if [ -f gateway/package.json ]; then cd gateway && npm ci --no-audit --no-fund --loglevel=error; fi
	@touch $@

$(STAMPS)/web: $(shell find web/src web/index.html web/package-lock.json web/vite.config.ts -type f 2>/dev/null)
	@mkdir -p $(STAMPS)
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build; fi
	@touch $@

gateway/package-lock.json:
	@true

# Serve the API, the panel and realtime on ENLACE_PORT (default 8000). With no ENLACE_DATABASE_URL
# an embedded PostgreSQL keeps its data under ./data/.
run: install
	$(VENV)/bin/enlace serve

# The whole suite: static checks (ruff, format, mypy; the import-linter layers run inside pytest,
# tests/unit/test_capas.py), then Python (unit, integration on real PostgreSQL, e2e in headless Chromium)
# and the gateway.
test: install
	@bash scripts/preparar-pruebas.sh
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/pytest -q -p no:cacheprovider
	@if [ -f gateway/package.json ]; then cd gateway && npm test; fi

# Regenerate the panel's types from the server: web/src/api/esquema.ts (OpenAPI) and eventos.ts (events).
# tests/unit/test_contrato_panel.py fails when they are stale.
esquema: install
	cd web && npm run esquema

demo: install
	$(VENV)/bin/enlace demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(STAMPS) $(VENV) web/node_modules web/dist gateway/node_modules
