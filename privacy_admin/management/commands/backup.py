"""Back up the database: one `pg_dump --format=custom` file of the configured
PostgreSQL database (S-30).

    python manage.py backup --out /srv/backups/privacy_admin-2026-11-28.dump

pg_dump reads one consistent snapshot while the portal keeps running. The
dump holds every table, the audit log and its anchors included; what is
encrypted at rest (BSN, health data, substantive texts, documents) stays
encrypted in it. The keys are NOT in it: FIELD_ENCRYPTION_KEYS, AUDIT_HMAC_KEY,
LOOKUP_HASH_KEY and SECRET_KEY come from the environment and are kept apart
from the dumps; docs/backup.md says where, and the order of a restore (keys,
pg_restore into a new database, checks, then `retention_run --as-of <today>`
so that pupils purged after the dump are purged again).

The file is created with mode 0600 and never overwritten. The password goes
to pg_dump through its environment, never its command line. Afterwards the
file is read back with `pg_restore --list`. SQLite (the development default)
is refused: stop the app and copy the file instead.
"""

import os
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

KEYS_NOTE = (
    "The encryption keys are NOT in this dump (FIELD_ENCRYPTION_KEYS, AUDIT_HMAC_KEY, LOOKUP_HASH_KEY, "
    "SECRET_KEY): without them the dump cannot be read or verified. Keep them apart from the dumps; "
    "see docs/backup.md."
)


def pg_environment(settings_dict):
    """libpq's environment for the configured database: host, port, user,
    database, password and SSL mode, so nothing secret is on a command line."""
    env = os.environ.copy()
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": (settings_dict.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({name: str(value) for name, value in values.items() if value})
    return env


class Command(BaseCommand):
    help = (
        "Write a pg_dump (custom format) of the configured PostgreSQL database to --out, mode 0600, never "
        "overwriting, and check it with pg_restore --list. The encryption keys are NOT in the dump: keep them "
        "apart. Restore: docs/backup.md. Refuses on SQLite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, metavar="FILE", help="the dump file to create (must not exist)")

    def handle(self, *args, out, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"backup needs PostgreSQL (DATABASE_URL=postgres://...); this database is {connection.vendor}. "
                "For a development SQLite database, stop the app and copy its file (docs/backup.md)."
            )
        for tool in ("pg_dump", "pg_restore"):
            if not shutil.which(tool):
                raise CommandError(f"{tool} is not installed (Debian: apt install postgresql-client)")
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"no such directory: {path.parent}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{path} exists; a backup never overwrites one") from None
        env = pg_environment(connection.settings_dict)
        try:
            with os.fdopen(fd, "wb") as dump:
                result = subprocess.run(  # noqa: S603 - fixed argv, settings from the environment
                    ["pg_dump", "--format=custom", "--no-password"],  # noqa: S607
                    stdout=dump,
                    stderr=subprocess.PIPE,
                    env=env,
                    check=False,
                )
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.decode(errors='replace').strip()}")
            listing = subprocess.run(  # noqa: S603
                ["pg_restore", "--list", str(path)],  # noqa: S607
                capture_output=True,
                text=True,
                check=False,
            )
            if listing.returncode != 0:
                raise CommandError(f"the dump does not read back: {listing.stderr.strip()}")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        tables = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
        size = path.stat().st_size
        self.stdout.write(
            f"Wrote {path}: {size / 1_000_000:.1f} MB, {tables} tables (pg_dump custom format, mode 0600)."
        )
        self.stdout.write(KEYS_NOTE)
