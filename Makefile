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

.PHONY: help venv run test lint format migrate demo env serve bench faults clean pygments-css

help:
	@echo "make run    set everything up and serve the demo on http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite"
	@echo "make lint   ruff check and format check"

$(PY):
	@python=$$($(find_python)) || { \
	  echo "No Python 3.12 or newer found (tried python3.14..python3.12, pyenv versions, python3)."; \
	  echo "Install Python 3.12+ and run make again."; exit 1; }; \
	echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	"$$python" -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

# A local .env for development; never overwritten once written.
.env: | $(PY)
	@echo "Writing .env (development settings; edit or delete it as you like)"
	@printf 'DEBUG=1\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

env: venv .env

migrate: env
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py import_series $(DEMO)
	@if [ -n "$$DJANGO_SUPERUSER_EMAIL" ] && [ -n "$$DJANGO_SUPERUSER_PASSWORD" ]; then \
	  if $(PY) manage.py shell -c "import os, sys; from accounts.models import User; \
	      sys.exit(User.objects.filter(email__iexact=os.environ['DJANGO_SUPERUSER_EMAIL']).exists())"; then \
	    $(PY) manage.py createsuperuser --no-input && echo "Created superuser $$DJANGO_SUPERUSER_EMAIL"; \
	  else echo "Superuser $$DJANGO_SUPERUSER_EMAIL already exists"; fi; \
	else \
	  echo "For the admin at /admin/, run: $(PY) manage.py createsuperuser"; \
	fi

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production server, locally: DEBUG off, gunicorn, compressed static files with hashed names.
# SECURE_HTTPS=0 only because this is plain http on 127.0.0.1; never set it in production.
serve: demo
	DEBUG=0 $(PY) manage.py collectstatic --no-input -v0
	DEBUG=0 SECURE_HTTPS=0 ALLOWED_HOSTS=127.0.0.1,localhost GUNICORN_BIND=$(HOST):$(PORT) \
	  $(BIN)/gunicorn -c config/gunicorn.py config.wsgi

test: venv
	$(BIN)/pytest

# Throughput of the hot paths, on a throwaway database (never timings in the tests).
bench: venv
	$(PY) -m tests.bench

# Fault figures: gunicorn with PostgreSQL and Redis each cut and hung (needs both on 127.0.0.1).
faults: venv
	$(PY) -m tests.faults

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache

pygments-css: venv
	$(PY) lessons/pygments_css.py > static/css/pygments.css
