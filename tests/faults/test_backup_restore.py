"""Backup and restore (S-30), following docs/backup.md step by step:
`manage.py backup` of the test database, then a purge after the dump, then
pg_restore of the dump into a scratch database. The restored database passes
the smoke checks (migrations applied, verify_audit_log, pages render with
the keys kept apart), it has the purged pupils' data back, and
`retention_run --as-of <today>` purges them again. With other keys than the
dump's, the restored data cannot be read and the audit log does not verify.
"""

import io
import json
import os
import stat
import subprocess
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from privacy_admin.env import new_field_key_item
from privacy_admin.models import AuditEvent
from retention import engine
from tests.faults.data import leavers
from tests.faults.procs import PYTHON, REPO
from tests.students.conftest import make_pupil


def _run(database_url, argv, env=None, check=True):
    """A Python process of the application against `database_url` (REDIS_URL
    left out: the restored database is checked on its own)."""
    environment = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    environment.pop("REDIS_URL", None)
    result = subprocess.run([PYTHON, *argv], cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, (argv, result.stdout[-2000:], result.stderr[-3000:])
    return result


def _manage(database_url, *args, env=None, check=True):
    return _run(database_url, ["manage.py", *args], env=env, check=check)


def _smoke(database_url, username, pupil_id, env=None):
    done = _run(database_url, ["tests/faults/smoke.py", username, str(pupil_id)], env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def scratch_database(db_url):
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    quoted = connection.ops.quote_name(name)

    def drop():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")

    drop()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quoted} TEMPLATE template0")
    yield db_url.rsplit("/", 1)[0] + f"/{name}", name
    drop()


def test_dump_restore_smoke_and_purges_after_the_dump_are_applied_again(
    db_url, scratch_database, report, tmp_path, verified_client, school_a, group5_a, director_a
):
    """S-30: backup → purge → restore into a new database → smoke checks →
    the pupils purged after the dump are back, and `retention_run --as-of
    today` purges them again; the audit log verifies before and after."""
    today = timezone.localdate().isoformat()
    scratch_url, scratch_name = scratch_database
    leavers(school_a, 5)
    pupil = make_pupil(school_a, group5_a, first="Fleur", last="Hersteld")
    reader = verified_client(director_a)  # reads of the substantive part write audit rows (S-21)
    for _ in range(3):
        assert reader.get(reverse("dossier_substantive", kwargs={"pupil_id": pupil.pk})).status_code == 200
    audit_rows = AuditEvent.objects.count()
    assert audit_rows >= 3
    due = engine.due(timezone.localdate(), school=school_a).counts()
    assert sum(due.values()) > 0

    dump = tmp_path / "privacy_admin.dump"
    started = time.monotonic()
    output = io.StringIO()
    call_command("backup", out=str(dump), stdout=output)
    backup_seconds = time.monotonic() - started
    assert "NOT in this dump" in output.getvalue()
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup", out=str(dump))
    report(f"backup: {dump.stat().st_size / 1000:.0f} kB in {backup_seconds:.1f} s, mode 0600, no overwrite")

    # After the dump: the leavers are purged in the live database.
    output = io.StringIO()
    call_command("retention_run", as_of=today, school=school_a.brin, json=True, stdout=output)
    assert json.loads(output.getvalue())["purged"] == due

    started = time.monotonic()
    restore = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", scratch_url, str(dump)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restore.returncode == 0, restore.stderr[-3000:]
    restore_seconds = time.monotonic() - started

    # Smoke checks on the restored database.
    _manage(scratch_url, "migrate", "--check")
    verified = _manage(scratch_url, "verify_audit_log").stdout.strip()
    assert f"{audit_rows} rows" in verified
    pages = _smoke(scratch_url, director_a.username, pupil.pk)
    assert pages == {"healthz": 200, "login": 200, "dashboard": 200, "dossier": 200, "keys_fit": True}
    report(f"restore into {scratch_name} in {restore_seconds:.1f} s; migrations applied; {verified}; pages {pages}")

    # The pupils purged after the dump are back; retention purges them again.
    back = json.loads(_manage(scratch_url, "retention_run", "--as-of", today, "--dry-run", "--json").stdout)
    assert back["due"] == due
    redone = json.loads(_manage(scratch_url, "retention_run", "--as-of", today, "--json").stdout)
    assert redone["purged"] == due
    verified_after = _manage(scratch_url, "verify_audit_log").stdout.strip()
    report(
        f"purged after the dump: {sum(due.values())} pupil-categories; due again on the restored database: "
        f"{sum(back['due'].values())}; retention_run purged {sum(redone['purged'].values())}; {verified_after}"
    )

    # The dump alone is not enough: other keys read nothing and verify nothing.
    other_keys = {"FIELD_ENCRYPTION_KEYS": new_field_key_item(), "AUDIT_HMAC_KEY": "x" * 48}
    assert _smoke(scratch_url, director_a.username, pupil.pk, env=other_keys) == {"keys_fit": False}
    wrong = _manage(scratch_url, "verify_audit_log", env=other_keys, check=False)
    assert wrong.returncode == 1
    report("with other keys than the dump's: the BSN does not decrypt and verify_audit_log exits 1")
