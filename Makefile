# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint lock clean-venv demo migrate bench-respondents bench-reminders bench-dashboard bench-results chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files make a second `make` a no-op until a lock file changes.
$(VENV)/.installed-runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.installed-runtime

# The embedded default keeps its secret in .env (git-ignored), made once.
.env:
	@$(PYTHON) -c "import secrets; print('DEBUG=true'); print('SECRET_KEY=' + secrets.token_urlsafe(50)); print('OPT_OUT_HASH_KEY=' + secrets.token_urlsafe(50))" > $@
	@echo "Wrote .env for the embedded default (DEBUG on, a random SECRET_KEY)."

migrate: $(VENV)/.installed-runtime .env
	@mkdir -p var/mail
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py simulate_consultation radicalized-offenders-consultation --respondents 80 --seed 1 --if-empty

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (never a Playwright browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's Chromium: sudo apt-get install chromium"; exit 1; \
	  fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-pin after editing pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -o requirements.lock
	uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean-venv:
	rm -rf $(VENV)

# Benchmarks (not tests): need PostgreSQL on 127.0.0.1:5432; see bench/.
bench-respondents: $(VENV)/.installed-dev
	$(BIN)/python -m bench.respondents_bench

# Needs PostgreSQL on 127.0.0.1:5432 and redis-server on the PATH.
bench-reminders: $(VENV)/.installed-dev
	$(BIN)/python -m bench.reminders_bench

bench-dashboard: $(VENV)/.installed-dev
	$(BIN)/python -m bench.dashboard_bench

bench-results: $(VENV)/.installed-dev
	$(BIN)/python -m bench.results_bench
