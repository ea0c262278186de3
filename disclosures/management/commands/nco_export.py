"""The NCO export to CBS from the command line (R-DIS-4).

    python manage.py nco_export --school BRIN --school-year 2025-2026 --out FILE --by USERNAME [--dry-run]

Writes the language and arithmetic results of the school year, with BSN, sex,
birth date, full name, postcode and house number, to FILE (CSV, UTF-8), and
records the export as one disclosure to CBS with the pupil count and its
pupils, audited in the same transaction. Pupils whose parents objected are
left out. The columns and the subject mapping are in disclosures/nco.py.

A disclosure has a person who made it: --by names the staff member on whose
behalf the export is made, who must hold `disclosures.make` and `pupil.bsn` at
the school (as on the screen); only the pupils that person may see are sent.
FILE must not exist yet (nothing is overwritten) and is created readable by
its owner only. If the file cannot be written, nothing is recorded. With
--dry-run only the counts are printed and nothing is written or recorded.

The terminal shows counts only: no names, no BSN (S-24). Every run without
--dry-run is a new act of disclosure and is recorded as a new one.
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from disclosures import nco
from privacy_admin.models import School, User


def _school(brin):
    school = School.objects.filter(brin=brin.upper()).select_related("foundation").first()
    if school is None:
        raise CommandError(f"no school with BRIN {brin}")
    return school


def _user(username):
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active staff member with username {username}")
    return user


class Command(BaseCommand):
    help = (
        "NCO export to CBS (R-DIS-4): write the language and arithmetic results of one school year with BSN, sex, "
        "birth date, full name, postcode and house number to a CSV file, leaving out pupils whose parents "
        "objected, and record it as one disclosure to CBS with the number of pupils. Each run is a new "
        "disclosure. The file must not exist yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--school", required=True, metavar="BRIN", help="BRIN code of the school, e.g. 99MS.")
        parser.add_argument(
            "--school-year",
            required=True,
            metavar="YYYY-YYYY",
            help="School year of the results, e.g. 2025-2026 (1 August 2025 to 31 July 2026).",
        )
        parser.add_argument("--out", required=True, metavar="FILE", help="CSV file to write; it must not exist yet.")
        parser.add_argument(
            "--by",
            required=True,
            metavar="USERNAME",
            help="Staff member on whose behalf the export is made (recorded with the disclosure); needs "
            "disclosures.make and pupil.bsn at the school.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print the counts; write no file and record nothing."
        )

    def handle(self, *args, school, school_year, out, by, dry_run, **options):
        school = _school(school)
        user = _user(by)
        if dry_run:
            export = self._run(nco.nco_collect, school=school, school_year=school_year, user=user)
            self.stdout.write(f"Dry run, nothing written or recorded: {self._counts(export)}.")
            return
        if os.path.exists(out):
            raise CommandError(f"{out} exists already; choose a new file name.")
        created = False
        try:
            with transaction.atomic():
                disclosure, export = self._run(nco.nco_export, school=school, school_year=school_year, acting_user=user)
                # Written inside the transaction: a file that cannot be written
                # leaves no disclosure on record.
                descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                created = True
                with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                    handle.write(export.csv_text())
        except OSError as exc:
            if created:
                os.remove(out)  # a partial file of personal data is not left behind
            raise CommandError(f"cannot write {out}: {exc.strerror}; nothing was recorded.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"NCO export {school.brin} {school_year}: {self._counts(export)}; "
                f"recorded as disclosure #{disclosure.pk}; written to {out}."
            )
        )

    def _run(self, action, **kwargs):
        try:
            return action(**kwargs)
        except nco.NcoRefused as exc:
            raise CommandError(str(exc)) from None

    @staticmethod
    def _counts(export):
        def count(n, noun):
            return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

        return (
            f"{count(len(export.pupils), 'pupil')}, {count(len(export.rows), 'result')}, "
            f"{count(export.objected, 'pupil')} left out because their parents objected"
        )
