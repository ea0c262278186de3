"""The named cast of users every test draws on (STYLE 10), and clients logged
in at each level: anonymous, password only, fully verified."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp

from privacy_admin.actions import LAST_SEEN_KEY, OTP_AT_KEY
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
from privacy_admin.sessions import AUTH_AT_KEY

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django empties tables with TRUNCATE after transactional tests
    (live_server); on PostgreSQL the audit tables refuse TRUNCATE unless
    privacy_admin.allow_audit_truncate is 'on' (migration 0003). Set it for the
    test database only, then reconnect so new connections carry it."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {name} SET privacy_admin.allow_audit_truncate = 'on'")
            connection.close()


@pytest.fixture(autouse=True)
def _migration_seeds(request):
    """Transactional tests (the browser tests' live server) end with a flush,
    which also empties what data migrations seeded (the retention terms) for
    the tests after them in the same process: put the seeds back first."""
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from tests.retention.conftest import reseed_rules

        reseed_rules()


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Per-device exponential back-off is tested on its own (S-3); elsewhere it
    # would make a right code after a wrong one wait a second.
    settings.OTP_THROTTLE_FACTOR = 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Tests read English texts; tests/test_i18n.py proves the Dutch default.
    settings.LANGUAGE_CODE = "en"


def totp_code(user, offset_steps=0):
    device = StaffTOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, t0=-offset_steps * 30):06d}"


def make_staff(username, *, school=None, role=None, foundation=None, foundation_role=None, valid_until=None):
    user = User.objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), email=f"{username}@example.org"
    )
    StaffTOTPDevice.objects.create(
        user=user, name="test", confirmed=True, secret_hex=(username.encode() * 20)[:20].hex()
    )
    if school is not None:
        Membership.objects.create(user=user, school=school, role=role, valid_until=valid_until)
    if foundation is not None:
        FoundationMembership.objects.create(user=user, foundation=foundation, role=foundation_role)
    return user


@pytest.fixture
def foundation(db):
    return Foundation.objects.create(name="Stichting Test", fg_email="fg@example.org")


@pytest.fixture
def school_a(foundation):
    return School.objects.create(foundation=foundation, brin="11AA", name="School A")


@pytest.fixture
def school_b(foundation):
    return School.objects.create(foundation=foundation, brin="22BB", name="School B")


@pytest.fixture
def group5_a(school_a):
    return Group.objects.create(school=school_a, school_year=current_school_year(), grade=5, name="Groep 5")


@pytest.fixture
def director_a(school_a):
    return make_staff("director_a", school=school_a, role=SchoolRole.DIRECTOR)


@pytest.fixture
def app_admin_a(school_a):
    return make_staff("app_admin_a", school=school_a, role=SchoolRole.APP_ADMIN)


@pytest.fixture
def teacher_a(school_a):
    return make_staff("teacher_a", school=school_a, role=SchoolRole.TEACHER)


@pytest.fixture
def substitute_a(school_a):
    friday = timezone.localdate() + timedelta(days=(4 - timezone.localdate().weekday()) % 7)
    return make_staff("substitute_a", school=school_a, role=SchoolRole.TEMP_TEACHER, valid_until=friday)


@pytest.fixture
def support_a(school_a):
    return make_staff("support_a", school=school_a, role=SchoolRole.SUPPORT)


@pytest.fixture
def teacher_b(school_b):
    return make_staff("teacher_b", school=school_b, role=SchoolRole.TEACHER)


@pytest.fixture
def app_admin_b(school_b):
    return make_staff("app_admin_b", school=school_b, role=SchoolRole.APP_ADMIN)


@pytest.fixture
def fg(foundation):
    return make_staff("fg_user", foundation=foundation, foundation_role=FoundationRole.FG)


def _session_client(user, *, verified):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    now = time.time()
    session[AUTH_AT_KEY] = now
    session[LAST_SEEN_KEY] = now
    if verified:
        device = StaffTOTPDevice.objects.get(user=user, confirmed=True)
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[OTP_AT_KEY] = now
    session.save()
    return client


@pytest.fixture
def verified_client():
    """A client whose session passed password and second factor just now."""
    return lambda user: _session_client(user, verified=True)


@pytest.fixture
def password_only_client():
    """A client that passed the password step but not the second factor."""
    return lambda user: _session_client(user, verified=False)


def age_session(client, **seconds_by_key):
    """Move session clocks into the past: age_session(c, pa_last_seen=16*60)."""
    session = client.session
    for key, seconds in seconds_by_key.items():
        session[key] = session[key] - seconds
    session.save()
