"""Pages of a restored database, rendered by the application against
DATABASE_URL (docs/backup.md, S-30):

    DATABASE_URL=postgres://.../privacy_admin_restored python tests/faults/smoke.py USERNAME PUPIL_ID

Prints one JSON object with the status of /healthz, the login page, the
dashboard and the pupil's dossier, the latter two for USERNAME with a
session that passed the second factor; and "keys_fit": whether the pupil's
BSN decrypts under FIELD_ENCRYPTION_KEYS and is found again through its
LOOKUP_HASH_KEY hash, i.e. whether the keys in the environment are the ones
the dump was written with.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_admin.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402

from privacy_admin.actions import LAST_SEEN_KEY, OTP_AT_KEY  # noqa: E402
from privacy_admin.models import StaffTOTPDevice, User  # noqa: E402
from privacy_admin.sessions import AUTH_AT_KEY  # noqa: E402
from students.models import Pupil  # noqa: E402


def signed_in(username):
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    now = time.time()
    session.update({AUTH_AT_KEY: now, LAST_SEEN_KEY: now, OTP_AT_KEY: now})
    session[DEVICE_ID_SESSION_KEY] = StaffTOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    return client


def keys_fit(pupil_id):
    try:
        bsn = Pupil.objects.get(pk=pupil_id).bsn
    except Exception:  # a wrong key: the value does not authenticate
        return False
    return bool(bsn) and Pupil.objects.with_bsn(bsn).filter(pk=pupil_id).exists()


def main(username, pupil_id):
    if not keys_fit(pupil_id):
        return {"keys_fit": False}
    anonymous, staff = Client(), signed_in(username)
    dossier = staff.get(reverse("dossier", kwargs={"pupil_id": pupil_id}))
    return {
        "healthz": anonymous.get(reverse("healthz")).status_code,
        "login": anonymous.get(reverse("login")).status_code,
        "dashboard": staff.get(reverse("home")).status_code,
        "dossier": dossier.status_code,
        "keys_fit": True,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
