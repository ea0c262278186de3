"""Bulk onboarding of pupils from the old pupil administration (R-DOS-1).

    python manage.py import_pupils FILE --school BRIN [--commit]

A dry run by default: it reads and checks the whole file, compares it with the
school's dossiers and prints what would be created, updated or left unchanged.
Only with --commit is the plan applied, in one transaction, with one audit
event per created or changed pupil. All or nothing: when any row is bad, every
error is printed to stderr as "line N: reason", nothing is written and the
exit status is 1. Pupils are matched on pupil_ref within the school, so
importing the same file again changes nothing.

The output names pupils by pupil_ref only and the errors quote no cell: no
names, no BSN reach the terminal or a log (S-24). The file format is in
students/imports.py.
"""

from django.core.management.base import BaseCommand, CommandError

from privacy_admin.models import School
from students import imports


def read_file(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def school_by_brin(brin):
    school = School.objects.filter(brin=brin.upper()).first()
    if school is None:
        raise CommandError(f"no school with BRIN {brin}")
    return school


def reject(command, errors):
    """Print every error as "line N: reason" and stop with exit status 1."""
    for error in errors:
        command.stderr.write(str(error))
    count = f"{len(errors)} error" if len(errors) == 1 else f"{len(errors)} errors"
    raise CommandError(f"the file was refused ({count}); nothing was written.", returncode=1)


class Command(BaseCommand):
    help = (
        "Import pupils, their enrolment, address and parents from a CSV file (comma- or semicolon-separated, "
        "UTF-8). Dry run unless --commit. All or nothing: any bad row is reported as 'line N: reason' and "
        "nothing is written (exit status 1). Pupils are matched on pupil_ref within the school."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file; the columns are listed in students/imports.py.")
        parser.add_argument("--school", required=True, metavar="BRIN", help="BRIN code of the school, e.g. 99MS.")
        parser.add_argument(
            "--commit", action="store_true", help="Apply the changes. Without it nothing is written (dry run)."
        )

    def handle(self, *args, file, school, commit, **options):
        school = school_by_brin(school)
        parsed = imports.parse_pupil_file(read_file(file), school=school)
        if not parsed.ok:
            reject(self, parsed.errors)
        try:
            plan = imports.plan_pupil_import(parsed.rows, school)
        except imports.ImportRejected as exc:
            reject(self, exc.errors)
        for action in plan.actions:
            if action.kind == "unchanged" and options["verbosity"] < 2:
                continue
            changes = f" ({', '.join(action.changes)})" if action.changes else ""
            self.stdout.write(f"line {action.row.line}: {action.kind} {action.row.pupil_ref}{changes}")
        counts = f"{plan.count('create')} created, {plan.count('update')} updated, {plan.count('unchanged')} unchanged"
        if not commit:
            self.stdout.write(f"Dry run, nothing written. Would be: {counts}. Run again with --commit to apply.")
            return
        imports.apply_pupil_import(plan, school, actor_label="manage.py import_pupils")
        self.stdout.write(self.style.SUCCESS(f"Imported into {school.brin}: {counts}."))
