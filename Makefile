# The two commands: `make run` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The address the tool answers on: `make run` serves it there and `make registration-url` names it
# in the URL Moodle is given, so both follow PORT (or a TOOL_BASE_URL set in the environment).
TOOL_BASE_URL ?= http://localhost:$(PORT)
STAMP  := $(VENV)/.installed

.PHONY: run registration-url test test-postgres test-moodle moodle-package install translations chromium php axe bench bench-passback bench-classroom bench-trainer-pages clean

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
	@echo "Demo platform: http://127.0.0.1:$(PORT)/demo   (the tool itself answers on $(TOOL_BASE_URL))"
	TOOL_BASE_URL=$(TOOL_BASE_URL) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

## make registration-url: a one-time dynamic registration URL for the tool `make run` serves
## (same PORT: `PORT=5081 make run` then `PORT=5081 make registration-url`)
registration-url: install
	@$(BIN)/flask --app wsgi db upgrade >/dev/null 2>&1 || $(BIN)/flask --app wsgi db upgrade
	@TOOL_BASE_URL=$(TOOL_BASE_URL) $(BIN)/flask --app wsgi lti-tool registration-url

## make test: installs everything the suite needs (dev extras, Chromium), checks the areas'
## dependencies (import-linter contracts in pyproject.toml), runs the suite
test: install chromium axe
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

## make test-moodle: the centre's journey through a real Moodle 5.1 (tests/moodle), in Chromium
MOODLE_PACKAGE ?= $(abspath ../shared/moodle/moodle-5.1.tar.xz)
test-moodle: moodle-package install chromium php
	MOODLE_PACKAGE="$(MOODLE_PACKAGE)" $(BIN)/python -m pytest --moodle --tb=short tests/moodle $(PYTEST_ARGS)

moodle-package:
	@test -f "$(MOODLE_PACKAGE)" || { echo "make test-moodle needs Moodle 5.1's release package: $(MOODLE_PACKAGE) is missing." \
	  "Put the shared folder beside the project (../shared/moodle/) or set MOODLE_PACKAGE=/path/to/moodle-5.1.tar.xz." >&2; exit 1; }

## Debian's PHP 8.2 with the extensions Moodle needs (for make test-moodle)
PHP_PACKAGES := php8.2-cli php8.2-pgsql php8.2-xml php8.2-mbstring php8.2-curl php8.2-zip php8.2-gd php8.2-intl \
	php8.2-soap php8.2-opcache php8.2-readline php8.2-bcmath
php:
	@php -m 2>/dev/null | grep -qix pgsql || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PHP_PACKAGES) >/dev/null; }

## axe-core (npm) for the browser tests' accessibility scan
axe: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --no-package-lock --loglevel=error
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## make bench: launch p50/p95 and launches/s at 1, 8, 32 clients, the tool beside a bare pylti1p3 handler, both under
## gunicorn.conf.py (BENCH_ARGS="--baseline ../other-checkout" adds another tree; see bench/README.md)
bench: install
	$(BIN)/python bench/launch.py $(BENCH_ARGS)

## make bench-passback: 1,000 grades through the outbox to a local AGS platform (all 200, then 30 % 503)
bench-passback: install
	$(BIN)/python bench/passback.py

## make bench-classroom: 30, 100, 200 learners asking the AI assistant at once (an 8 s answer each) while others
## launch, save drafts and open the roster; today's gunicorn.conf.py beside a second configuration (default
## --threads 64; BENCH_ARGS='--compare-env GUNICORN_THREADS=32', see bench/README.md)
bench-classroom: install
	$(BIN)/python bench/classroom.py $(BENCH_ARGS)

## make bench-trainer-pages: p50/p95 of each trainer page for a class of 40 learners x 15 activities x 3 versions,
## and the exports of a course of 2,000 learners, under gunicorn.conf.py on PostgreSQL (see bench/README.md)
bench-trainer-pages: install
	$(BIN)/python bench/trainer_pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache test-output node_modules
