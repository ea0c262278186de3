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

# Failure injection (tests/faults, issue 10): a throwaway Redis on a free port,
# Celery workers and beats, gunicorn, pg_dump/pg_restore, against PostgreSQL
# (DATABASE_URL, or the local one .ci/run starts); 1-2 minutes. Each test
# prints what it measured. `make test` runs only tests/faults/test_recovery.py.
.PHONY: test-faults
FAULTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/privacy_admin
test-faults: install
	RUN_FAULTS=1 DATABASE_URL="$${DATABASE_URL:-$(FAULTS_DATABASE_URL)}" $(VENV)/bin/pytest -q -s -p no:xdist tests/faults

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

# The load test (bench/loadtest/run.py, docs/operations.md): gunicorn with 2
# workers against a scratch PostgreSQL database and Redis, all on 127.0.0.1,
# driven by headless locust for LOADTEST_SECONDS (then three short saturation
# runs); prints the figures beside the targets. Only the server of
# DATABASE_URL is used (the scratch database is created and dropped).
LOADTEST_SECONDS ?= 60
.PHONY: loadtest
loadtest: install
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/privacy_admin}" \
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" \
	LOADTEST_SECONDS=$(LOADTEST_SECONDS) $(PY) bench/loadtest/run.py
