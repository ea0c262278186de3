# The two commands of the README: `make run` and `make test`. Both install
# into .venv first (idempotent: only when requirements.lock changed).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist): both cores of the reference machine.
TEST_WORKERS ?= 2

.PHONY: install run test test-fast lint format messages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Cannot create .venv: on Debian/Ubuntu run 'sudo apt install python3-venv'"; exit 1; }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	@touch $@

run: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the Dutch catalogue from the sources and compile it; the compiled
# .mo files are committed so a fresh clone shows Dutch without gettext.
messages: install
	$(PY) manage.py makemessages -l nl --no-location --ignore=.venv
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
