"""Purge the personal data whose retention term has passed (R-RET-1..6).

    python manage.py retention_run --as-of 2028-08-01 [--dry-run] [--json] [--school BRIN]

What is due follows the terms in RetentionRule (retention/engine.py explains
the arithmetic). The purge runs in batches, each in its own transaction with
its deletion record and audit event; a run that stops halfway is finished by
running the command again, and a second run purges nothing (S-27). Only one
purge runs at a time: a second one refuses with an error. `--dry-run` reports
what is due and changes nothing. `--json` prints exactly one object:
{"as_of", "due": {category: pupils}, "purged": {category: pupils}, "held": pupils}.
"""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from privacy_admin.models import School
from retention import engine


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of: not a date in the form YYYY-MM-DD: {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Purge pupil data whose retention term has passed on the given date, in batches, "
        "leaving a deletion record (counts only). Pupils under a legal hold are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", required=True, metavar="YYYY-MM-DD", help="the date the terms are counted to (due on that day)"
        )
        parser.add_argument("--dry-run", action="store_true", help="report what is due; delete nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object with the counts")
        parser.add_argument("--school", metavar="BRIN", help="only the pupils of this school")
        parser.add_argument("--batch-size", type=int, default=200, help="pupils per transaction (default 200)")

    def handle(self, *args, **options):
        as_of = _date(options["as_of"])
        school = None
        if options["school"]:
            school = School.objects.filter(brin=options["school"]).first()
            if school is None:
                raise CommandError(f"no school with BRIN {options['school']!r}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            result = engine.purge(as_of, school=school, dry_run=options["dry_run"], batch_size=options["batch_size"])
        except engine.PurgeLocked as exc:
            raise CommandError("another purge is running; nothing was done") from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json()))
            return
        self.stdout.write(f"Retention as of {as_of.isoformat()}{' (dry run)' if options['dry_run'] else ''}")
        for category in engine.CATEGORIES:
            self.stdout.write(f"  {category:<12} due {result.due[category]:>7}  purged {result.purged[category]:>7}")
        self.stdout.write(f"  held (legal hold): {result.held}")
