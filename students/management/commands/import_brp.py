"""Address updates from the BRP, as delivered through DUO (R-DOS-6).

    python manage.py import_brp FILE --school BRIN [--commit]

A dry run by default: every row is checked and matched by BSN (through its
keyed hash, S-25) to a pupil or a parent of a pupil of the school, and the
command prints per line whose address would change and which fields. Only
with --commit are the changes applied, in one transaction, each audited. Any
row with a bad or unknown BSN, a bad postcode or a bad date is printed to
stderr as "line N: reason", nothing is applied and the exit status is 1.
Applying the same file again changes nothing.

The output names pupils by pupil_ref (or id) and parents by id: no names, no
BSN and no addresses reach the terminal or a log (S-24). The preview with old
and new addresses is on the upload screen. The file format is in
students/imports.py.
"""

from django.core.management.base import BaseCommand

from students import imports
from students.management.commands.import_pupils import read_file, reject, school_by_brin


def _who(change):
    if change.pupil is not None:
        return f"pupil {change.pupil.pupil_ref or '#' + str(change.pupil.pk)}"
    return f"parent #{change.guardian.pk}"


class Command(BaseCommand):
    help = (
        "Apply BRP/DUO address changes from a CSV file (bsn, first_name, last_name, street, house_number, "
        "postcode, city, date_of_change), matched by BSN to the pupils and parents of the school. Dry run unless "
        "--commit. Any bad or unknown BSN, bad postcode or bad date is reported as 'line N: reason' and nothing "
        "is applied (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file from the BRP/DUO exchange.")
        parser.add_argument("--school", required=True, metavar="BRIN", help="BRIN code of the school, e.g. 99MS.")
        parser.add_argument(
            "--commit", action="store_true", help="Apply the changes. Without it nothing is written (dry run)."
        )

    def handle(self, *args, file, school, commit, **options):
        school = school_by_brin(school)
        parsed = imports.parse_brp_file(read_file(file), school=school)
        if not parsed.ok:
            reject(self, parsed.errors)
        try:
            plan = imports.plan_brp_import(parsed.rows, school)
        except imports.ImportRejected as exc:
            reject(self, exc.errors)
        labels = {"change": "address changes", "unchanged": "unchanged", "outdated": "outdated, skipped"}
        for change in plan.changes:
            if change.kind == "unchanged" and options["verbosity"] < 2:
                continue
            fields = f" ({', '.join(change.fields)})" if change.kind == "change" else ""
            self.stdout.write(f"line {change.line}: {_who(change)}: {labels[change.kind]}{fields}")
        counts = (
            f"{plan.count('change')} to change, {plan.count('unchanged')} unchanged, {plan.count('outdated')} outdated"
        )
        if not commit:
            self.stdout.write(f"Dry run, nothing written: {counts}. Run again with --commit to apply.")
            return
        applied = imports.apply_brp_import(plan, school, actor_label="manage.py import_brp")
        self.stdout.write(self.style.SUCCESS(f"{applied} addresses updated in {school.brin}."))
