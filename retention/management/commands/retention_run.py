"""Purge the personal data whose retention term has passed (R-RET-1..6).

    python manage.py retention_run --as-of 2028-08-01 [--dry-run] [--json] [--school BRIN]

What is due follows the terms in RetentionRule (retention/engine.py explains
the arithmetic). The purge runs in batches, each in its own transaction with
its deletion record and audit event; a run that stops halfway is finished by
running the command again, and a second run purges nothing (S-27). Only one
purge runs at a time: a second one refuses with an error. `--dry-run` reports
what is due and changes nothing. `--json` prints exactly one object:
{"as_of", "due": {category: pupils}, "purged": {category: pupils}, "held": pupils,
"audit_events": {"due": events, "purged": events}}.

After the pupils, the audit log's own term (AUDIT_RETENTION_YEARS,
retention/auditterm.py): its oldest events are removed behind a checkpoint.
Those are counted in events, not pupils, hence their own key. The log is the
foundation's, so with --school it is only counted, not purged.
"""

import datetime
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy_admin.auditlog import AuditChainError
from privacy_admin.models import School
from retention import auditterm, engine
from retention.forms import EARLIEST_AS_OF, LATEST_AS_OF


def _date(value):
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of: not a date in the form YYYY-MM-DD: {value!r}") from exc
    if not EARLIEST_AS_OF <= day <= LATEST_AS_OF:
        raise CommandError(f"--as-of: choose a date between {EARLIEST_AS_OF} and {LATEST_AS_OF}: {value!r}")
    return day


class Command(BaseCommand):
    help = (
        "Purge pupil data whose retention term has passed on the given date, in batches, "
        "leaving a deletion record (counts only). Pupils under a legal hold are skipped. "
        "Then remove the audit events older than AUDIT_RETENTION_YEARS (oldest first, behind a "
        "checkpoint that keeps verify_audit_log working); with --school they are only counted. "
        '--json prints {"as_of", "due": {category: pupils}, "purged": {category: pupils}, "held": pupils, '
        '"audit_events": {"due": events, "purged": events}}.'
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of", required=True, metavar="YYYY-MM-DD", help="the date the terms are counted to (due on that day)"
        )
        parser.add_argument("--dry-run", action="store_true", help="report what is due; delete nothing")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object with the counts; pupils per category, and the audit log's "
            'events apart under "audit_events"',
        )
        parser.add_argument(
            "--school", metavar="BRIN", help="only the pupils of this school (the audit log is then only counted)"
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help=f"pupils per transaction (default {engine.BATCH_SIZE})"
        )

    def handle(self, *args, **options):
        as_of = _date(options["as_of"])
        school = None
        if options["school"]:
            school = School.objects.filter(brin=options["school"]).first()
            if school is None:
                raise CommandError(f"no school with BRIN {options['school']!r}")
        batch = {}
        if options["batch_size"] is not None:
            if options["batch_size"] < 1:
                raise CommandError("--batch-size must be at least 1")
            batch["batch_size"] = options["batch_size"]
        try:
            result = engine.purge(as_of, school=school, dry_run=options["dry_run"], **batch)
        except engine.PurgeLocked as exc:
            raise CommandError("another purge is running; nothing was done") from exc
        audit, audit_error = self._audit(as_of, dry_run=options["dry_run"] or school is not None)
        if options["json"]:
            self.stdout.write(json.dumps({**result.as_json(), "audit_events": audit.as_json()}))
        else:
            self._human(as_of, result, audit, options, school)
        if audit_error:
            raise CommandError(audit_error)

    def _audit(self, as_of, *, dry_run):
        """The audit log's term; a failure here is reported after the pupil
        counts, which are done and must not be lost."""
        try:
            return auditterm.purge_audit(as_of, dry_run=dry_run), ""
        except engine.PurgeLocked:
            error = "the audit log was not purged: another purge is running; run again"
        except AuditChainError as exc:
            error = f"the audit log was not purged: {exc}; run verify_audit_log"
        return auditterm.AuditPurgeResult(as_of=as_of, due=auditterm.due_count(as_of), purged=0), error

    def _human(self, as_of, result, audit, options, school):
        self.stdout.write(f"Retention as of {as_of.isoformat()}{' (dry run)' if options['dry_run'] else ''}")
        for category in engine.CATEGORIES:
            self.stdout.write(f"  {category:<12} due {result.due[category]:>7}  purged {result.purged[category]:>7}")
        self.stdout.write(f"  held (legal hold): {result.held}")
        note = " (not purged with --school: the log is the foundation's)" if school is not None else ""
        self.stdout.write(
            f"  audit log ({settings.AUDIT_RETENTION_YEARS} years): events due {audit.due}, purged {audit.purged}{note}"
        )
