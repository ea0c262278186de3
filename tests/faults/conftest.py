"""Failure injection (issue 10: S-27, S-28, S-29, S-30): real processes
(a throwaway Redis, Celery workers and beats, gunicorn, pg_dump/pg_restore)
against the PostgreSQL test database, with faults placed on purpose.

    make test-faults        # RUN_FAULTS=1 pytest -s tests/faults

A plain `pytest` (and so `make test`) collects only test_recovery.py here
(fast, in-process): the others start and kill processes and take minutes. With RUN_FAULTS=1 they need
PostgreSQL (DATABASE_URL=postgres://...) and redis-server, pg_dump and
pg_restore on PATH; a missing one is an error, never a silent skip. The
machine's own Redis is never touched: each session starts its own on a free
port. Every test prints what it measured, and the session ends with the
list of them all.
"""

import os
import shutil
import urllib.parse
from pathlib import Path

import pytest

from tests.faults.procs import PYTHON, REPO, Process, Redis, free_port, wait_until

# test_recovery.py is fast and in-process: the normal suite runs it too.
IN_NORMAL_SUITE = {"test_recovery.py"}
collect_ignore = (
    []
    if os.environ.get("RUN_FAULTS") == "1"
    else sorted(path.name for path in Path(__file__).parent.glob("test_*.py") if path.name not in IN_NORMAL_SUITE)
)

_MEASURED = []


def pytest_terminal_summary(terminalreporter):
    if _MEASURED:
        terminalreporter.section("fault injection: what was measured")
        for line in _MEASURED:
            terminalreporter.write_line(line)


@pytest.fixture
def report(request):
    """report("...") prints a measured figure now and in the session summary."""
    name = request.node.name

    def write(line):
        text = f"[{name}] {line}"
        _MEASURED.append(text)
        print(f"\n  {text}", end="", flush=True)

    return write


@pytest.fixture(scope="session")
def fault_tools(django_db_setup, django_db_blocker):
    from django.db import connection

    missing = [tool for tool in ("redis-server", "redis-cli", "pg_dump", "pg_restore") if not shutil.which(tool)]
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (set DATABASE_URL=postgres://...)")
    if missing:
        pytest.fail("the fault tests need " + ", ".join(missing), pytrace=False)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def redis_server(fault_tools, log_dir):
    server = Redis(log_dir)
    server.start()
    yield server
    server.stop()


def _use_broker(url, eager):
    """Point this process's Celery app at `url` (tasks are sent, not run
    in-process) and drop connections pooled for the old broker."""
    from kombu import pools

    from privacy_admin.celery import app

    app.conf.update(broker_url=url, task_always_eager=eager)
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_server, transactional_db):
    """The throwaway Redis, running and empty, as this process's broker.
    Tasks are sent once a transaction commits, so the test commits for real."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.cli("flushall")
    _use_broker(redis_server.url, eager=False)
    yield redis_server
    _use_broker("memory://", eager=True)
    if redis_server.process is None:
        redis_server.start()


@pytest.fixture
def db_url(transactional_db, fault_tools):
    """DATABASE_URL of the test database, for the processes started here."""
    from django.db import connection

    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "")
    password = f":{urllib.parse.quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    return f"postgres://{user}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Procs:
    """Starts the application's processes against the test database and the
    throwaway Redis; whatever is still running at the end is killed."""

    def __init__(self, db_url, redis_url, log_dir, name):
        self.db_url = db_url
        self.redis_url = redis_url
        self.log_dir = log_dir
        self.prefix = name[:40]
        self.started = []
        self.count = 0

    def env(self, **extra):
        env = os.environ.copy()
        env.update(
            DATABASE_URL=self.db_url,
            REDIS_URL=self.redis_url or "",
            CELERY_TASK_ALWAYS_EAGER="false" if self.redis_url else "true",
            DJANGO_SETTINGS_MODULE="privacy_admin.settings",
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
        )
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def _start(self, kind, argv, env):
        self.count += 1
        process = Process(f"{self.prefix}-{kind}{self.count}", argv, env, self.log_dir)
        self.started.append(process)
        return process

    def worker(self, concurrency=1, **faults):
        argv = [PYTHON, "tests/faults/run_celery.py", "worker", "-l", "INFO", "-P", "prefork", "-c", str(concurrency)]
        argv += ["-n", f"faults{self.count + 1}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        process = self._start("worker", argv, self.env(**faults))
        wait_until(lambda: "ready." in process.output() or not process.alive(), 60, "the worker to start")
        assert process.alive(), process.output()[-3000:]
        wait_until(lambda: len(process.children()) >= concurrency, 30, "the worker's pool")
        return process

    def beat(self, tasks, interval, **faults):
        schedule = self.log_dir / f"{self.prefix}-beat{self.count + 1}-schedule"
        argv = [PYTHON, "tests/faults/run_celery.py", "beat", "-l", "INFO", "-s", str(schedule)]
        env = self.env(FAULT_BEAT_TASKS=",".join(tasks), FAULT_BEAT_INTERVAL=interval, **faults)
        process = self._start("beat", argv, env)
        wait_until(lambda: "beat: Starting" in process.output() or not process.alive(), 60, "beat to start")
        assert process.alive(), process.output()[-3000:]
        return process

    def gunicorn(self, **faults):
        port = free_port()
        argv = [PYTHON, "-m", "gunicorn", "tests.faults.wsgi:application"]
        argv += ["-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "60", "--access-logfile", "-"]
        process = self._start("gunicorn", argv, self.env(**faults))
        process.base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: "Booting worker" in process.output() or not process.alive(), 60, "gunicorn to start")
        assert process.alive(), process.output()[-3000:]
        return process

    def close(self):
        for process in reversed(self.started):
            if process.alive():
                process.kill()


@pytest.fixture
def procs(request, db_url, log_dir):
    redis_url = None
    if "broker" in request.fixturenames:
        redis_url = request.getfixturevalue("broker").url
    started = Procs(db_url, redis_url, log_dir, request.node.name)
    yield started
    started.close()


def terminate_backends(application_name=None, pid=None):
    """pg_terminate_backend on connections to this test database only: the
    one with backend `pid`, or those with `application_name`. The number
    ended."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (pid = %s OR application_name = %s)",
            [pid, application_name],
        )
        return cursor.fetchone()[0]
