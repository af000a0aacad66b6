# Two commands set everything up: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Django 6 needs Python >= 3.12: take the first interpreter that is new enough.
PYTHON ?= $(shell for p in python3.12 python3.13 python3 /root/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
RESIDENTS ?= 3000
PYTEST_ARGS ?=
ONLY ?=

.PHONY: run test lint format bench messages install clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Compiles the translation catalogues with polib, so no system gettext is needed.
messages: install
	$(PY) -c "import glob, polib; [polib.pofile(p).save_as_mofile(p[:-3] + '.mo') for p in glob.glob('locale/*/LC_MESSAGES/*.po')]"

run: messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_areas
	$(PY) manage.py seed_demo --residents $(RESIDENTS) --seed 1
	$(PY) manage.py seed_demo_reviews
	$(PY) manage.py seed_demo_institutions
	$(PY) manage.py stats_refresh
	$(PY) manage.py quality_check
	$(PY) manage.py runserver 127.0.0.1:8000

test: messages
	$(PY) -m pytest $(PYTEST_ARGS)

# Services, selectors and policy are type-checked strictly (see [tool.mypy] in pyproject.toml).
TYPED := citizens/services.py citizens/selectors.py citizens/policy.py citizens/crypto.py \
	citizens/nik.py submissions/services.py submissions/selectors.py submissions/transitions.py \
	submissions/routing.py verification/services.py verification/selectors.py verification/merge.py \
	verification/statements.py verification/sla.py verification/monitoring.py stakeholders/services.py stakeholders/selectors.py \
	stakeholders/importing.py stakeholders/parsing.py stakeholders/feed.py stakeholders/webhooks.py \
	stakeholders/exports.py skts/services.py skts/selectors.py skts/policy.py skts/rendering.py \
	citizens/statistics.py citizens/quality.py verification/reports.py citizens/backends.py \
	citizens/sessions.py citizens/db.py citizens/linking.py stakeholders/policy.py citizens/reads.py \
	citizens/filecrypt.py submissions/retention.py stakeholders/retention.py citizens/spreadsheet.py \
	citizens/pdf_fetcher.py citizens/invitations.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(TYPED)

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: messages
	$(PY) -m benchmarks $(if $(ONLY),--only $(ONLY),)

clean:
	rm -rf $(VENV) var db.sqlite3 .pytest_cache
