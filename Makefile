# The two commands: `make run` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run test test-postgres install translations chromium axe bench bench-passback clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d lti_tool/translations

## make run: SQLite, fake LLM, demo platform, on http://127.0.0.1:$(PORT)/demo
run: install
	$(BIN)/flask --app wsgi db upgrade
	@echo "Demo platform: http://127.0.0.1:$(PORT)/demo   (the tool itself answers on http://localhost:$(PORT))"
	TOOL_BASE_URL=http://localhost:$(PORT) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

## make test: installs everything the suite needs (dev extras, Chromium) and runs it
test: install chromium axe
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

## axe-core (npm) for the browser tests' accessibility scan
axe: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --no-package-lock --loglevel=error
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

bench: install
	$(BIN)/python bench/launch.py

## make bench-passback: 1,000 grades through the outbox to a local AGS platform (all 200, then 30 % 503)
bench-passback: install
	$(BIN)/python bench/passback.py

clean:
	rm -rf $(VENV) instance .pytest_cache test-output node_modules
