"""Demo data for the embedded default: a foundation with two schools, staff for
every role, and the groups of this school year. Idempotent: running it again
changes nothing that is already there. Refused when DEBUG is off.

Every demo user has the same demo password and a fixed TOTP secret, derived
from the username, so a person adds it to an authenticator app once. All
names are synthetic.

The core knows no app by name: each installed app may add its own demo data
through a module `<app>/demo.py` with `seed(schools, staff, stdout)`, called
here in INSTALLED_APPS order inside the same transaction.
"""

import hashlib
import json
from base64 import b32encode
from datetime import timedelta
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from privacy_admin.models import (
    Foundation,
    FoundationMembership,
    Group,
    Membership,
    School,
    StaffTOTPDevice,
    User,
)
from privacy_admin.models.org import current_school_year
from privacy_admin.roles import FoundationRole, SchoolRole

DEMO_PASSWORD = "demo-wachtwoord-2026"

SCHOOLS = [("99MS", "Montessorischool De Vlinder"), ("99DS", "Basisschool De Schakel")]

# username, first name, last name, role, school BRIN (None: foundation role), days valid
STAFF = [
    ("beheer.a", "Anouk", "Beheerder", SchoolRole.APP_ADMIN, "99MS", None),
    ("directeur.a", "Daan", "Directeur", SchoolRole.DIRECTOR, "99MS", None),
    ("admin.a", "Aylin", "Administratie", SchoolRole.ADMINISTRATION, "99MS", None),
    ("ib.a", "Isa", "Begeleider", SchoolRole.IB, "99MS", None),
    ("leerkracht.a", "Lars", "Leerkracht", SchoolRole.TEACHER, "99MS", None),
    ("invaller.a", "Ivo", "Invaller", SchoolRole.TEMP_TEACHER, "99MS", 14),
    ("ondersteuning.a", "Olga", "Ondersteuning", SchoolRole.SUPPORT, "99MS", None),
    ("beheer.b", "Bram", "Beheerder", SchoolRole.APP_ADMIN, "99DS", None),
    ("directeur.b", "Dewi", "Directeur", SchoolRole.DIRECTOR, "99DS", None),
    ("leerkracht.b", "Lieke", "Leerkracht", SchoolRole.TEACHER, "99DS", None),
    ("fg", "Femke", "Gegevensbescherming", FoundationRole.FG, None, None),
    ("bestuurder", "Bas", "Bestuurder", FoundationRole.BOARD, None, None),
]


def demo_totp_secret(username):
    """Fixed per username: the same secret on every machine and every run."""
    return hashlib.sha256(f"privacy-admin-demo:{username}".encode()).digest()[:20]


class Command(BaseCommand):
    help = "Create the demo foundation, schools, staff and groups (idempotent; refused when DEBUG is off)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the demo logins as a JSON list.")

    def handle(self, *args, json=False, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo is refused when DEBUG is off: demo accounts have known passwords.")
        logins = self._seed()
        if json:
            self.stdout.write(_dumps(logins))
            return
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"{'username':<18}{'role':<24}{'school':<8}TOTP secret (add to an authenticator app)")
        for row in logins:
            self.stdout.write(f"{row['username']:<18}{row['role']:<24}{row['school'] or '-':<8}{row['totp_secret']}")
        self.stdout.write("Log in at http://127.0.0.1:8000/accounts/login/")

    @transaction.atomic
    def _seed(self):
        foundation, _ = Foundation.objects.get_or_create(
            name="Stichting Primo Demo",
            defaults={"fg_name": "Femke Gegevensbescherming", "fg_email": "fg@example.org", "fg_phone": "010-0000000"},
        )
        schools = {}
        year = current_school_year()
        for brin, name in SCHOOLS:
            school, _ = School.objects.get_or_create(brin=brin, defaults={"foundation": foundation, "name": name})
            schools[brin] = school
            for grade in range(1, 9):
                Group.objects.get_or_create(
                    school=school, school_year=year, name=f"Groep {grade}", defaults={"grade": grade}
                )
        logins = []
        for username, first, last, role, brin, days in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
            )
            if created or not user.check_password(DEMO_PASSWORD):
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if brin:
                valid_until = timezone.localdate() + timedelta(days=days) if days else None
                Membership.objects.get_or_create(
                    user=user, school=schools[brin], role=role, defaults={"valid_until": valid_until}
                )
            else:
                FoundationMembership.objects.get_or_create(user=user, foundation=foundation, role=role)
            secret = demo_totp_secret(username)
            device = StaffTOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None or device.bin_key != secret:
                StaffTOTPDevice.objects.filter(user=user).delete()
                StaffTOTPDevice.objects.create(user=user, name="demo", confirmed=True, secret_hex=secret.hex())
            logins.append(
                {
                    "username": username,
                    "password": DEMO_PASSWORD,
                    "totp_secret": b32encode(secret).decode(),
                    "role": str(role.value),
                    "school": brin,
                }
            )
        staff = {row["username"]: User.objects.get(username=row["username"]) for row in logins}
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if config.name != "privacy_admin" and find_spec(module_name) is not None:
                import_module(module_name).seed(schools=schools, staff=staff, stdout=self.stderr)
        return logins


def _dumps(data):
    return json.dumps(data, indent=2)
