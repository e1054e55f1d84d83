# The project's vocabulary: `make run` to read the demo, `make test` to check everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO := content/became-ai-engineer

# The first interpreter, in this order, that really runs and is 3.12 or newer.
# (pyenv shims answer to `command -v` but refuse to run until a version is selected,
# so each candidate is executed, not just looked up.)
define find_python
for c in python3.14 python3.13 python3.12 \
    $$(ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
    python3; do \
  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    command -v "$$c"; exit 0; \
  fi; \
done; exit 1
endef

.PHONY: help venv run test lint format migrate demo env serve bench bench-quick bench-dashboard faults clean pygments-css messages lock screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
	  awk -F'\t' '{ printf "make %-13s %s\n", $$1, $$2 }'

$(PY):
	@python=$$($(find_python)) || { \
	  echo "No Python 3.12 or newer found (tried python3.14..python3.12, pyenv versions, python3)."; \
	  echo "Install Python 3.12+ and run make again."; exit 1; }; \
	echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	"$$python" -m venv $(VENV)

# Installs exactly what requirements-dev.txt pins, each file checked against its hash, then the
# project itself (editable, without resolving anything more).
$(VENV)/.installed: requirements-dev.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(VENV)/.installed ## create or update the virtual environment from the lock files

# The lock files: every dependency pinned with its hashes, from pyproject.toml's ranges. They
# name no index or local folder (whatever this machine's pip configuration adds), so an
# install elsewhere reads them without a warning.
LOCK_OPTIONS := --quiet --strip-extras --generate-hashes --allow-unsafe \
  --no-emit-index-url --no-emit-find-links
lock: | $(PY) ## re-pin requirements.txt and requirements-dev.txt (after changing pyproject.toml)
	$(PY) -m pip install --quiet "pip-tools>=7.4,<8"
	$(BIN)/pip-compile $(LOCK_OPTIONS) --output-file requirements.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK_OPTIONS) --extra dev --output-file requirements-dev.txt pyproject.toml

# A local .env for development; never overwritten once written.
.env: | $(PY)
	@echo "Writing .env (development settings; edit or delete it as you like)"
	@printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

env: venv .env ## the virtual environment and a development .env

migrate: env ## apply the migrations to the development database
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable

demo: migrate ## import the demo series (and a superuser when DJANGO_SUPERUSER_* are set)
	$(PY) manage.py import_series $(DEMO)
	@if [ -n "$$DJANGO_SUPERUSER_EMAIL" ] && [ -n "$$DJANGO_SUPERUSER_PASSWORD" ]; then \
	  if $(PY) manage.py shell -c "import os, sys; from accounts.models import User; \
	      sys.exit(User.objects.filter(email__iexact=os.environ['DJANGO_SUPERUSER_EMAIL']).exists())"; then \
	    $(PY) manage.py createsuperuser --no-input && echo "Created superuser $$DJANGO_SUPERUSER_EMAIL"; \
	  else echo "Superuser $$DJANGO_SUPERUSER_EMAIL already exists"; fi; \
	else \
	  echo "For the admin at /admin/, run: $(PY) manage.py createsuperuser"; \
	fi

# The worker that sends e-mails (django.tasks' database backend, config/mail.py) runs beside the
# web server, in the same terminal, and stops with it (Ctrl-C, or the server ending).
define beside_the_worker
$(PY) manage.py db_worker --no-reload & worker=$$!; \
trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
$(1)
endef

# In development the payment gateway's simulator (payments/simulator.py; PAYMENTS_SIMULATOR, on
# with DEBUG) runs beside them too, and stops with them.
run: demo ## set everything up and serve the demo on http://127.0.0.1:8000 (with the e-mail worker and the payment simulator)
	@$(PY) manage.py simulate_gateway & simulator=$$!; \
	$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker $$simulator 2>/dev/null; wait $$worker $$simulator 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production server, locally: DEBUG off, gunicorn, compressed static files with hashed names.
# SECURE_HTTPS=0 only because this is plain http on 127.0.0.1; never set it in production.
serve: demo ## the production set-up locally: DEBUG off, gunicorn and the e-mail worker
	DEBUG=0 $(PY) manage.py collectstatic --no-input -v0
	@export DEBUG=0 SECURE_HTTPS=0 SERVE_MEDIA=1 ALLOWED_HOSTS=127.0.0.1,localhost \
	  GUNICORN_BIND=$(HOST):$(PORT); \
	$(call beside_the_worker,$(BIN)/gunicorn -c config/gunicorn.py config.wsgi)

test: venv ## set up and run the whole test suite
	$(BIN)/pytest

# Throughput under load against Django's own ceiling (never timings in the tests). Needs wrk
# (apt-get install wrk), and PostgreSQL and Redis on 127.0.0.1 (DATABASE_URL and REDIS_URL name
# others; the database named is dropped and built afresh). SQLITE=1: the embedded run, SQLite
# without Redis. FRONT=1: through nginx (apt-get install nginx), bench/front.py.
bench: venv ## readers' visits under load as ratios to a bare Django view (needs wrk)
	$(PY) -m bench.run $(if $(SQLITE),--sqlite) $(if $(FRONT),--front)

bench-quick: venv ## in-process figures for rendering, pages and PINs (no server, no ceiling)
	$(PY) -m bench.quick

# Fault figures: gunicorn with PostgreSQL and Redis each cut and hung (needs both on 127.0.0.1).
faults: venv ## the site with PostgreSQL and Redis cut and hung: requests, errors, recovery
	$(PY) -m tests.faults

bench-dashboard: venv ## time the sales dashboard with 100,000 redemption attempts
	$(PY) -m bench.dashboard

# Pictures of the main pages for the README and docs/ (needs Chromium at /usr/bin/chromium).
screenshots: venv ## the main pages as PNGs in docs/screenshots/ (production server, Chromium)
	$(PY) -m tests.e2e.screenshots

lint: venv ## ruff (Python), djLint (templates), Biome (CSS and JavaScript)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint --quiet
	$(BIN)/biome ci static

format: venv ## fix what the linters can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/biome check --write static

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache

# Update locale/id from the source and compile it (needs GNU gettext: apt-get install gettext).
messages: venv ## update locale/id from the source and compile it (needs GNU gettext)
	@command -v msgfmt >/dev/null || { echo "make messages needs GNU gettext (apt-get install gettext)."; exit 1; }
	$(PY) -m config.catalogue

pygments-css: venv ## regenerate static/css/pygments.css
	$(PY) lessons/pygments_css.py > static/css/pygments.css
